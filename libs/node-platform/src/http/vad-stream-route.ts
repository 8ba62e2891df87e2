import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { LeptonError } from '@lepton/tensor-core';
import type { LeptonServices } from '@lepton/api';
import { isMediaTypeError, sendHttpError, unsupportedMediaType } from './error-reply';
import { parseVadQuery } from './vad-query';

export const VAD_STREAM_PATH = '/api/v1/vad/detect';
export const WAV_CONTENT_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'application/octet-stream'];

/** Past this many unread bytes a failed upload is cut off instead of drained (see drainOrClose). */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * The request body as chunks, without the stream's own async iterator semantics of destroying the request when
 * the consumer stops early: a decoder that rejects the first chunk must still be able to send its 400.
 */
function bodyChunks(raw: IncomingMessage): AsyncIterable<Uint8Array> {
  return { [Symbol.asyncIterator]: () => raw.iterator({ destroyOnReturn: false }) };
}

/**
 * After an early error the client may still be uploading. Drain a small remainder so the connection stays
 * usable; close the connection after the reply when a large part is still to come. A chunked upload (no
 * Content-Length) is drained too, up to the same limit, then cut: closing at once made a client still sending
 * (an edge agent relaying its caller's upload) meet EPIPE instead of the reply.
 */
function drainOrClose(raw: IncomingMessage, reply: { header(k: string, v: string): unknown }): void {
  if (raw.complete || raw.destroyed) return;
  const declared = Number(raw.headers['content-length'] ?? NaN);
  if (!Number.isFinite(declared)) {
    let drained = 0;
    raw.on('data', (c: Buffer) => {
      drained += c.length;
      if (drained > MAX_DRAIN_BYTES) raw.socket.destroy();
    });
  } else if (declared - raw.socket.bytesRead > MAX_DRAIN_BYTES) {
    reply.header('connection', 'close');
  }
  raw.resume();
}

/**
 * POST /api/v1/vad/detect?model=&includeProbabilities=&threshold=... with the WAV file as the raw body. The
 * body is handed to the inference service as it arrives (never buffered whole), so an hour of audio costs the
 * memory of a few chunks.
 */
export async function vadStreamRoute(scope: FastifyInstance, services: LeptonServices): Promise<void> {
  // Scoped to this plugin (other routes keep theirs): only WAV types are accepted, anything else is a 415.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(WAV_CONTENT_TYPES, (_req, payload, done) => done(null, payload));
  scope.setErrorHandler((err, request, reply) => {
    if (request.raw.aborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      // The client went away mid-upload: nobody will read a reply, and it is not a server fault.
      request.log.info('vad upload aborted by the client');
      return reply.code(400).send({ code: 'BAD_REQUEST', message: 'upload aborted by the client' });
    }
    drainOrClose(request.raw, reply);
    if (isMediaTypeError(err)) {
      const { status, body } = unsupportedMediaType(request.headers['content-type'], WAV_CONTENT_TYPES);
      return reply.code(status).send(body);
    }
    return sendHttpError(reply, err);
  });
  scope.post(VAD_STREAM_PATH, async (request, reply) => {
    const query = parseVadQuery(request.query);
    const body = request.body as IncomingMessage | undefined;
    if (body === undefined || body === null) {
      throw new LeptonError('WAV_EMPTY', 'request body is empty; expected a WAV file (content-type audio/wav)');
    }
    const result = await services.inference.vadDetectStream({
      model: query.model,
      ...(query.version !== undefined ? { version: query.version } : {}),
      options: query.options,
      includeProbabilities: query.includeProbabilities,
      audio: bodyChunks(body),
    });
    // Bytes after the WAV's data chunk (trailing metadata chunks) are not needed for the answer.
    drainOrClose(body, reply);
    return result;
  });
}
