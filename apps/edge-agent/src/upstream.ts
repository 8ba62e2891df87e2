import { Readable } from 'node:stream';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { LeptonError } from '@lepton/tensor-core';
import {
  ErrorBodySchema,
  type Assignment,
  type DeviceReport,
  type InferResponse,
  type ModelRecord,
  type TelemetryEvent,
  type VadResult,
} from '@lepton/contracts';
import type { AppRouter, DeviceCapabilities, EnrollResponse, VadDetectCall } from '@lepton/api';
import { postWavStream } from '@lepton/node-platform';

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

  sync(capabilities: DeviceCapabilities): Promise<{ assignments: Assignment[]; pollAfterMs: number }> {
    return this.call('fleet.sync', () => this.client.fleet.sync.mutate({ capabilities }));
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
    let res: Response;
    try {
      // No overall timeout: a slow link may need long for a big model; a stalled one fails on the socket.
      res = await fetch(url, { headers });
    } catch (err) {
      throw unreachable(url, err);
    }
    if (!res.ok || !res.body) {
      const body = ErrorBodySchema.safeParse(await res.json().catch(() => undefined));
      if (body.success) throw new LeptonError(body.data.code, body.data.message, body.data.details);
      throw new LeptonError('UPSTREAM_UNAVAILABLE', `GET ${url} answered HTTP ${res.status}`);
    }
    return {
      sha256: res.headers.get('x-lepton-sha256') ?? undefined,
      partial: res.status === 206,
      body: Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]),
    };
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
    // No tRPC error shape at all: the request never reached a Lepton server.
    return unreachable(where, err);
  }
  return unreachable(where, err);
}
