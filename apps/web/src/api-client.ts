import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { ErrorBodySchema, VadResultSchema, type ModelRecord, type Variant, type VadOptions, type VadResult } from '@lepton/contracts';
import { LeptonError } from '@lepton/tensor-core';

/** Typed client for the server's tRPC router; `import type` keeps every line of server code out of the bundle. */
export type LeptonClient = ReturnType<typeof createLeptonClient>;

export function createLeptonClient(baseUrl = '') {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${baseUrl}/trpc` })] });
}

/**
 * The variant this page runs: full precision first, because the page compares the browser with the server and the
 * server runs fp32 (a built fp16-web variant would show float16 rounding, not platform differences); among equal
 * precisions one built for the web, then one for any target.
 */
export function pickWebVariant(model: ModelRecord): Variant | undefined {
  const rank = (v: Variant): number => (v.precision === 'fp32' ? 0 : 1) * 10 + (v.target === 'web' ? 0 : v.target === 'any' ? 1 : 2);
  return [...model.variants].sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * Download a model's bytes from the server's public web route (no credential: a browser has none, and every
 * visitor of the page may run the model; the device route /api/v1/models/:id/artifact wants one) and check them against the registry's sha256 before handing them to
 * onnxruntime-web, so a truncated or swapped file fails with a clear code instead of a cryptic session error.
 */
export async function fetchModelBytes(model: ModelRecord, variant: Variant | undefined, baseUrl = ''): Promise<Uint8Array> {
  const query = new URLSearchParams({ version: model.version });
  if (variant) query.set('variant', variant.id);
  const url = `${baseUrl}/api/v1/web/models/${encodeURIComponent(model.id)}/artifact?${query}`;
  const res = await fetch(url);
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { code?: string; message?: string } | undefined;
    throw new LeptonError(
      body?.code ?? 'ARTIFACT_NOT_FOUND',
      body?.message ?? `GET ${url} answered HTTP ${res.status}; expected 200 with the model bytes`,
    );
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const expected = variant?.sha256 ?? res.headers.get('x-lepton-sha256') ?? undefined;
  if (expected && globalThis.crypto?.subtle) {
    const actual = await sha256Hex(bytes);
    if (actual !== expected) {
      throw new LeptonError('ARTIFACT_DIGEST_MISMATCH', `model ${model.id} bytes have sha256 ${actual}; expected ${expected}`);
    }
  }
  return bytes;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The server's VAD answer for a WAV sent as the raw body of POST /api/v1/vad/detect (read as it arrives, any size),
 * for exactly the version the page runs. The page used tRPC vad.detect with the file in base64: a WAV over about
 * 48 MB passed the 64 MiB tRPC body limit (BODY_TOO_LARGE telling the page's user to use this route), and without
 * `version` the server ran its latest version while the page ran the one selected.
 */
export async function detectOnServer(
  model: { id: string; version: string },
  wav: Uint8Array<ArrayBuffer>,
  options: VadOptions,
  baseUrl = '',
): Promise<VadResult> {
  const query = new URLSearchParams({ model: model.id, version: model.version, includeProbabilities: '1' });
  for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
  const url = `${baseUrl}/api/v1/vad/detect?${query}`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
  const json: unknown = await res.json().catch(() => undefined);
  if (res.ok) {
    const parsed = VadResultSchema.safeParse(json);
    if (parsed.success) return parsed.data;
  } else {
    const parsed = ErrorBodySchema.safeParse(json);
    if (parsed.success) throw new LeptonError(parsed.data.code, parsed.data.message, parsed.data.details);
  }
  throw new LeptonError('UPSTREAM_UNAVAILABLE', `POST ${url} answered HTTP ${res.status} with a body that is not a Lepton answer`);
}
