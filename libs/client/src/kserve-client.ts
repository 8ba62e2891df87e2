import { LeptonError, type Tensor } from '@lepton/tensor-core';
import {
  BinaryCursor,
  INFERENCE_HEADER_CONTENT_LENGTH,
  KserveInferResponseSchema,
  KserveModelMetadataSchema,
  KserveServerMetadataSchema,
  joinKserveBody,
  readKserveTensor,
  splitKserveBody,
  writeKserveTensor,
  type KserveModelMetadata,
  type KserveTensor,
} from '@lepton/contracts';
import type { FetchLike } from './fetch';

export interface KserveInferOptions {
  version?: string;
  /** Echoed back by the server. */
  id?: string;
  /** Outputs to return (default all). */
  outputs?: string[];
  /** Send inputs and receive outputs as binary tensors (default true); false uses JSON number arrays. */
  binary?: boolean;
}

export interface KserveInferResult {
  model: string;
  version: string | undefined;
  id: string | undefined;
  outputs: Record<string, Tensor>;
}

/** Decode failures and server errors as LeptonErrors: the server's { error, code } when it sent one. */
async function failure(res: { status: number; text(): Promise<string> }, url: string): Promise<LeptonError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: string; code?: string };
    if (typeof body.error === 'string') return new LeptonError(body.code ?? 'UPSTREAM_UNAVAILABLE', body.error, { status: res.status, url });
  } catch {
    // not JSON: fall through
  }
  return new LeptonError('UPSTREAM_UNAVAILABLE', `${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status, url });
}

/**
 * The Open Inference Protocol (KServe v2) over HTTP: metadata, readiness, and infer with binary tensors (the
 * default: raw little-endian bytes after a JSON header) or JSON.
 */
export class KserveClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: FetchLike,
  ) {}

  private async getJson(path: string): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    const res = await this.fetchImpl(url);
    if (!res.ok) throw await failure(res, url);
    return res.json();
  }

  async serverMetadata() {
    return KserveServerMetadataSchema.parse(await this.getJson('/v2'));
  }

  async modelMetadata(model: string, version?: string): Promise<KserveModelMetadata> {
    return KserveModelMetadataSchema.parse(await this.getJson(this.modelPath(model, version)));
  }

  async ready(model: string, version?: string): Promise<boolean> {
    const res = await this.fetchImpl(`${this.baseUrl}${this.modelPath(model, version)}/ready`);
    await res.text();
    return res.ok;
  }

  async infer(model: string, inputs: Record<string, Tensor>, opts: KserveInferOptions = {}): Promise<KserveInferResult> {
    const binary = opts.binary ?? true;
    const entries: KserveTensor[] = [];
    const parts: Uint8Array[] = [];
    for (const [name, t] of Object.entries(inputs)) {
      const { entry, bytes } = writeKserveTensor(name, t, binary);
      entries.push(entry);
      if (bytes) parts.push(bytes);
    }
    const header = {
      ...(opts.id !== undefined ? { id: opts.id } : {}),
      inputs: entries,
      ...(opts.outputs ? { outputs: opts.outputs.map((name) => ({ name })) } : {}),
      parameters: { binary_data_output: binary },
    };
    const url = `${this.baseUrl}${this.modelPath(model, opts.version)}/infer`;
    const { body, headerLength } = joinKserveBody(header, parts);
    const headers: Record<string, string> = binary
      ? { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(headerLength) }
      : { 'content-type': 'application/json' };
    const res = await this.fetchImpl(url, { method: 'POST', headers, body });
    if (!res.ok) throw await failure(res, url);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const frame = splitKserveBody(bytes, res.headers.get(INFERENCE_HEADER_CONTENT_LENGTH) ?? undefined);
    const parsed = KserveInferResponseSchema.safeParse(frame.header);
    if (!parsed.success) throw new LeptonError('UPSTREAM_UNAVAILABLE', `${url} answered a body that is not a KServe v2 inference response`, { url });
    const cursor = new BinaryCursor(frame.binary);
    const outputs: Record<string, Tensor> = {};
    for (const o of parsed.data.outputs) outputs[o.name] = readKserveTensor(o, cursor, Number.MAX_SAFE_INTEGER);
    cursor.finish();
    return { model: parsed.data.model_name, version: parsed.data.model_version, id: parsed.data.id, outputs };
  }

  private modelPath(model: string, version?: string): string {
    const m = `/v2/models/${encodeURIComponent(model)}`;
    return version === undefined ? m : `${m}/versions/${encodeURIComponent(version)}`;
  }
}
