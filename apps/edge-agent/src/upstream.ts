import { Readable } from 'node:stream';
import { z } from 'zod';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { LeptonError } from '@lepton/tensor-core';
import {
  AssignmentSchema,
  ErrorBodySchema,
  type Assignment,
  type DeviceReport,
  type InferResponse,
  type ModelRecord,
  type TelemetryEvent,
  type VadResult,
} from '@lepton/contracts';
import type { AppRouter, DeviceCapabilities, EnrollResponse, VadDetectCall } from '@lepton/api';
import { describeZodError } from '@lepton/api';
import { postWavStream } from '@lepton/node-platform';

/** What fleet.sync must answer; anything else came from something that is not (this version of) a Lepton server. */
const SyncAnswerSchema = z.object({ assignments: z.array(AssignmentSchema), pollAfterMs: z.number().int().min(0) });

export interface UpstreamOptions {
  /** Server base URL without a trailing slash. */
  url: string;
  timeoutMs: number;
}

/**
 * The agent's only way to the server: tRPC for procedures, plain HTTP for artifact bytes and streamed WAVs.
 * Every failure comes back as a LeptonError: the server's own code when it answered, UPSTREAM_UNAVAILABLE
 * (naming the URL) when it could not be reached, so callers decide on codes alone.
 */
export class Upstream {
  private readonly client;
  /** Sent as `authorization: Bearer ...` once the device is enrolled. */
  credential: string | undefined;

  constructor(private readonly opts: UpstreamOptions) {
    this.client = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${opts.url}/trpc`,
          headers: () => this.authHeaders(),
          fetch: (input, init) => fetch(input, { ...(init as RequestInit), signal: AbortSignal.timeout(opts.timeoutMs) }),
        }),
      ],
    });
  }

  get url(): string {
    return this.opts.url;
  }

  private authHeaders(): Record<string, string> {
    return this.credential ? { authorization: `Bearer ${this.credential}` } : {};
  }

  enroll(token: string, name: string, capabilities: DeviceCapabilities): Promise<EnrollResponse> {
    return this.call('devices.enroll', () => this.client.devices.enroll.mutate({ token, name, capabilities }));
  }

  getModel(id: string, version?: string): Promise<ModelRecord> {
    return this.call('models.get', () => this.client.models.get.query(version ? { id, version } : { id }));
  }

  listModels(): Promise<ModelRecord[]> {
    return this.call('models.list', () => this.client.models.list.query());
  }

  infer(req: Parameters<typeof this.client.infer.mutate>[0]): Promise<InferResponse> {
    return this.call('infer', () => this.client.infer.mutate(req));
  }

  vadDetect(req: VadDetectCall & { wav: Uint8Array }): Promise<VadResult> {
    return this.call('vad.detect', () =>
      this.client.vad.detect.mutate({
        model: req.model,
        ...(req.version !== undefined ? { version: req.version } : {}),
        wav: Buffer.from(req.wav.buffer, req.wav.byteOffset, req.wav.byteLength).toString('base64'),
        options: req.options,
        includeProbabilities: req.includeProbabilities,
      }),
    );
  }

  /** Stream a WAV to the server's POST /api/v1/vad/detect (bounded memory on both ends). */
  async vadDetectStream(req: VadDetectCall & { audio: AsyncIterable<Uint8Array> }): Promise<VadResult> {
    return postWavStream(
      this.opts.url,
      req.audio,
      {
        model: req.model,
        ...(req.version !== undefined ? { version: req.version } : {}),
        ...req.options,
        includeProbabilities: req.includeProbabilities,
      },
      { headers: this.authHeaders() },
    );
  }

  /**
   * The device's assignments. The answer is checked before anything acts on it: a proxy or another service on
   * the server's address answering 200 with some other JSON is UPSTREAM_UNAVAILABLE naming the field, not a
   * TypeError deep in the install code ('assignments.find is not a function', code INTERNAL).
   */
  async sync(capabilities: DeviceCapabilities): Promise<{ assignments: Assignment[]; pollAfterMs: number }> {
    const answer: unknown = await this.call('fleet.sync', () => this.client.fleet.sync.mutate({ capabilities }));
    const parsed = SyncAnswerSchema.safeParse(answer);
    if (!parsed.success) {
      throw new LeptonError(
        'UPSTREAM_UNAVAILABLE',
        `server ${this.opts.url}/trpc (fleet.sync) answered something that is not a sync answer: ${describeZodError(parsed.error)}; expected { assignments: [...], pollAfterMs }`,
        { url: this.opts.url },
      );
    }
    return parsed.data;
  }

  report(reports: DeviceReport[]): Promise<{ accepted: number }> {
    return this.call('fleet.report', () => this.client.fleet.report.mutate({ reports }));
  }

  telemetry(events: TelemetryEvent[]): Promise<{ stored: number; duplicates: number }> {
    return this.call('fleet.telemetry', () => this.client.fleet.telemetry.mutate({ events }));
  }

  publicKey(): Promise<{ keyId: string; publicKey: string }> {
    return this.call('fleet.publicKey', () => this.client.fleet.publicKey.query());
  }

  /**
   * GET one variant's artifact with the device credential, from byte `from` on (Range + If-Range on the digest
   * ETag, so a resume never splices two different files). `partial` says whether the server honoured the range.
   * A big model may take long, so there is no overall limit; but the answer must start, and every chunk must
   * follow the last, within `timeoutMs` (EDGE_UPSTREAM_TIMEOUT_MS). A stalled or broken transfer is
   * UPSTREAM_UNAVAILABLE saying how far it got (the caller keeps the partial file and resumes); it used to wait
   * for undici's 300 s body timeout, and the agent did not listen meanwhile.
   */
  async fetchArtifact(
    id: string,
    version: string,
    variant: string,
    from = 0,
    sha256?: string,
  ): Promise<{ sha256: string | undefined; partial: boolean; body: AsyncIterable<Uint8Array> }> {
    const query = new URLSearchParams({ version, variant });
    const url = `${this.opts.url}/api/v1/models/${encodeURIComponent(id)}/artifact?${query}`;
    const headers: Record<string, string> = { ...this.authHeaders() };
    if (from > 0) {
      headers['range'] = `bytes=${from}-`;
      if (sha256) headers['if-range'] = `"sha256:${sha256}"`;
    }
    const ms = this.opts.timeoutMs;
    const abort = new AbortController();
    let timer = setTimeout(() => abort.abort(), ms);
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: abort.signal });
    } catch (err) {
      clearTimeout(timer);
      if (abort.signal.aborted) throw new LeptonError('UPSTREAM_UNAVAILABLE', `GET ${url} did not answer within ${ms} ms (EDGE_UPSTREAM_TIMEOUT_MS)`, { url });
      throw unreachable(url, err);
    }
    if (!res.ok || !res.body) {
      clearTimeout(timer);
      const body = ErrorBodySchema.safeParse(await res.json().catch(() => undefined));
      if (body.success) throw new LeptonError(body.data.code, body.data.message, body.data.details);
      throw new LeptonError('UPSTREAM_UNAVAILABLE', `GET ${url} answered HTTP ${res.status}`);
    }
    const stream = Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
    async function* guarded(): AsyncIterable<Uint8Array> {
      let received = 0;
      let stalled = false;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = true;
          abort.abort();
        }, ms);
      };
      arm();
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          received += chunk.byteLength;
          arm();
          yield chunk;
        }
      } catch (err) {
        const at = `after ${received} bytes${from > 0 ? ` (resumed at byte ${from})` : ''}`;
        if (stalled) throw new LeptonError('UPSTREAM_UNAVAILABLE', `GET ${url} stalled: no bytes for ${ms} ms (EDGE_UPSTREAM_TIMEOUT_MS) ${at}`, { url, received });
        const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
        throw new LeptonError('UPSTREAM_UNAVAILABLE', `GET ${url} broke off ${at}: ${cause}`, { url, received });
      } finally {
        clearTimeout(timer);
      }
    }
    return { sha256: res.headers.get('x-lepton-sha256') ?? undefined, partial: res.status === 206, body: guarded() };
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toLeptonError(`${this.opts.url}/trpc (${what})`, err);
    }
  }
}

function unreachable(url: string, err: unknown): LeptonError {
  const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return new LeptonError('UPSTREAM_UNAVAILABLE', `server ${url} is unreachable: ${cause}`, { url });
}

function toLeptonError(where: string, err: unknown): LeptonError {
  if (err instanceof TRPCClientError) {
    const body = ErrorBodySchema.safeParse((err.data as { lepton?: unknown } | undefined)?.lepton);
    if (body.success) return new LeptonError(body.data.code, body.data.message, body.data.details);
    // An answer that is not JSON (an HTML error page, a captive portal, another service on that port): it was
    // reached, so say what came back rather than 'unreachable: Unexpected token <'.
    const cause = err.cause ?? err;
    if (cause instanceof SyntaxError) {
      return new LeptonError('UPSTREAM_UNAVAILABLE', `server ${where} answered something that is not a Lepton response (${cause.message}); expected the Lepton server's tRPC JSON: is LEPTON_SERVER_URL right?`, {
        url: where,
      });
    }
    // No tRPC error shape at all: the request never reached a Lepton server.
    return unreachable(where, err);
  }
  return unreachable(where, err);
}
