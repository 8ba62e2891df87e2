import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { LeptonError } from '@lepton/tensor-core';
import { ErrorBodySchema, VadResultSchema, type VadResult } from '@lepton/contracts';
import { VAD_STREAM_PATH } from './vad-stream-route';
import { vadQueryString, type VadQuery } from './vad-query';

/** A WAV to upload: a file path (streamed from disk), bytes, or a stream of chunks. */
export type WavSource = string | Uint8Array | AsyncIterable<Uint8Array> | Readable;

export interface PostWavStreamInit {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function bodyOf(source: WavSource): NonNullable<RequestInit['body']> {
  // fetch only types ArrayBuffer-backed views as bodies; a SharedArrayBuffer view would be copied anyway.
  if (source instanceof Uint8Array) return source as Uint8Array<ArrayBuffer>;
  const readable = typeof source === 'string' ? createReadStream(source) : source instanceof Readable ? source : Readable.from(source);
  return Readable.toWeb(readable) as unknown as ReadableStream<Uint8Array>;
}

/**
 * Stream a WAV to POST /api/v1/vad/detect and return its VadResult. The body is sent as it is read (fetch with
 * duplex 'half'), so a one-hour file never sits in memory on either side. Errors: the server's LeptonError
 * (code, message, details) rethrown; UPSTREAM_UNAVAILABLE when the server cannot be reached or answers
 * something that is not ours.
 */
export async function postWavStream(
  baseUrl: string,
  source: WavSource,
  query: VadQuery = {},
  init: PostWavStreamInit = {},
): Promise<VadResult> {
  const url = `${baseUrl.replace(/\/+$/, '')}${VAD_STREAM_PATH}${vadQueryString(query)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav', ...init.headers },
      body: bodyOf(source),
      duplex: 'half',
      ...(init.signal ? { signal: init.signal } : {}),
    } as RequestInit);
  } catch (err) {
    if (err instanceof LeptonError) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new LeptonError('UPSTREAM_UNAVAILABLE', `cannot reach ${url}: ${cause?.code ?? cause?.message ?? String(err)}`, {
      url,
    });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) {
    const parsed = VadResultSchema.safeParse(json);
    if (parsed.success) return parsed.data;
  } else {
    const parsed = ErrorBodySchema.safeParse(json);
    if (parsed.success) throw new LeptonError(parsed.data.code, parsed.data.message, parsed.data.details);
  }
  throw new LeptonError('UPSTREAM_UNAVAILABLE', `${url} answered HTTP ${res.status} with a body that is not a Lepton response`, {
    url,
    status: res.status,
    body: text.slice(0, 200),
  });
}
