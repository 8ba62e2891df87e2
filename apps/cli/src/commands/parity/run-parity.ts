import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { ModelManifestSchema, decodeWireTensor, encodeBase64, encodeWireTensor, type ModelManifest, type WireTensor } from '@lepton/contracts';
import { createPredictor, detectSpeech, manifestForVariant } from '@lepton/runtime';
import { ort } from '@lepton/node-platform';
import {
  buildParityReport,
  feedsCanonicalBytes,
  findVariant,
  manifestFromModel,
  namesVariant,
  type VariantRef,
  recordFeeds,
  type AppRouter,
  type ParityPlatform,
  type ParityReport,
  type ParityRunInput,
} from '@lepton/api';
import { readParityInputs, type ParityInputs } from './inputs';

export interface ParityOptions {
  platforms: ParityPlatform[];
  server: string;
  edge: string;
  apiKey?: string;
  /** The variant every platform runs (id, or precision and/or target); default the fp32 model. */
  variant?: VariantRef;
  /** Also report each platform's difference from the fp32 model (non-fp32 variants). */
  compareFp32?: boolean;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * `lepton parity MODEL INPUTS`: MODEL is a registry id (`id` or `id@version`) or an .onnx file. 'local' runs here
 * (onnxruntime-node, same predictor and pipelines); server, edge and browser run through the server's parity.run
 * (the browser is a headless Chromium on the server's web app), which compares everything against the first
 * platform listed.
 */
export async function runParity(model: string, inputsPath: string, opts: ParityOptions): Promise<ParityReport> {
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${opts.server}/trpc`, ...(opts.apiKey ? { headers: { authorization: `Bearer ${opts.apiKey}` } } : {}) })],
  });
  const isFile = existsSync(model) && statSync(model).isFile();
  let bytes: Uint8Array | undefined;
  let manifest: ModelManifest;
  let id: string;
  let version: string | undefined;
  let variantId: string | undefined;
  let expectedSha: string | undefined;
  const ref = opts.variant ?? {};
  if (isFile && namesVariant(ref)) {
    throw new LeptonError('BAD_REQUEST', `--variant, --precision and --target name a registered variant; ${model} is a file (register it, or pass the variant's own file)`);
  }
  if (isFile) {
    bytes = new Uint8Array(await readFile(model));
    const digest = sha256(bytes).slice(0, 12);
    // The id the server registers an uploaded file under, so local and remote runs share one manifest.
    id = `parity-${digest}`;
    version = digest;
    // Parsed, so the defaults (explicit session options) are filled in exactly as the server's registry does.
    manifest = ModelManifestSchema.parse(manifestFromModel(bytes, { id, version, name: model }));
  } else {
    [id, version] = model.split('@') as [string, string | undefined];
    const record = await call(opts.server, () => client.models.get.query({ id, ...(version ? { version } : {}) }));
    manifest = record.manifest;
    version = record.version;
    if (namesVariant(ref)) {
      const v = findVariant(record, ref);
      // The local run uses the variant's recorded session options, as every other platform does.
      manifest = manifestForVariant(record.manifest, v);
      variantId = v.id;
      expectedSha = v.sha256;
    }
  }
  const inputs = await readParityInputs(inputsPath, manifest);
  const provided: ParityRunInput[] = [];
  if (opts.platforms.includes('local')) {
    bytes ??= await download(opts.server, id, version!, variantId, expectedSha);
    provided.push({ ...(await runLocal(manifest, bytes, inputs)), artifactSha256: sha256(bytes), ...(variantId ? { variant: variantId } : {}) });
  }
  const remote = opts.platforms.filter((p) => p !== 'local');
  if (remote.length === 0) return buildParityReport({ model: id, version: version!, precision: 'fp32', runs: provided });
  return call(opts.server, () =>
    client.parity.run.mutate({
      model: isFile ? model.slice(-128) : id,
      ...(version && !isFile ? { version } : {}),
      ...(isFile ? { modelBytes: encodeBase64(bytes!) } : {}),
      ...(inputs.kind === 'wav' ? { wav: encodeBase64(inputs.wav) } : { inputs: inputs.inputs }),
      ...(variantId ? { variant: variantId } : {}),
      ...(opts.compareFp32 ? { compareFp32: true } : {}),
      platforms: opts.platforms,
      reference: opts.platforms[0]!,
      ...(opts.platforms.includes('edge') ? { edgeUrl: opts.edge } : {}),
      provided,
    }),
  );
}

/** This process as a platform: the same predictor and pipelines the server runs, on onnxruntime-node. */
async function runLocal(manifest: ModelManifest, model: Uint8Array, inputs: ParityInputs): Promise<ParityRunInput> {
  const base = { platform: 'local' as const, runtime: 'onnxruntime-node@1.30 (cpu, in-process)', executionProvider: 'cpu', sessionOptions: manifest.sessionOptions, answeredBy: 'local' };
  try {
    const predictor = await createPredictor({ manifest, model, ort });
    try {
      const recorded = recordFeeds(predictor);
      const t0 = performance.now();
      let outputs: WireTensor[];
      if (inputs.kind === 'wav') {
        const run = await detectSpeech(recorded.predictor, inputs.wav);
        outputs = [encodeWireTensor('probabilities', { dtype: 'float32', shape: [run.probabilities.length], data: Float32Array.from(run.probabilities) })];
      } else {
        const result = await recorded.predictor.run(Object.fromEntries(inputs.inputs.map((w) => [w.name, decodeWireTensor(w)] as const)));
        outputs = manifest.outputs.filter((o) => result[o.name]).map((o) => encodeWireTensor(o.name, result[o.name]!));
      }
      return { ...base, ok: true, outputs, feedsSha256: sha256(feedsCanonicalBytes(recorded.calls)), steps: recorded.calls.length, inferenceMs: performance.now() - t0 };
    } finally {
      await predictor.release();
    }
  } catch (err) {
    return { ...base, ok: false, error: { code: isLeptonError(err) ? err.code : 'INTERNAL', message: (err as Error).message } };
  }
}

async function download(server: string, id: string, version: string, variant?: string, expected?: string): Promise<Uint8Array> {
  const query = new URLSearchParams({ version, ...(variant ? { variant } : {}) });
  const url = `${server}/api/v1/web/models/${encodeURIComponent(id)}/artifact?${query}`;
  const res = await fetch(url).catch((e: unknown) => {
    throw new LeptonError('UPSTREAM_UNAVAILABLE', `cannot reach ${server} to download ${id}@${version}: ${(e as Error).message}`);
  });
  if (!res.ok) throw new LeptonError('ARTIFACT_NOT_FOUND', `GET ${url} answered HTTP ${res.status}; expected the model bytes`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (expected && sha256(bytes) !== expected) {
    throw new LeptonError('ARTIFACT_DIGEST_MISMATCH', `GET ${url} gave bytes with sha256 ${sha256(bytes)}; expected ${expected} (variant ${variant})`);
  }
  return bytes;
}

/** Server calls with our error codes: tRPC's data.lepton, or UPSTREAM_UNAVAILABLE naming the URL. */
async function call<T>(server: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TRPCClientError) {
      const lepton = (err.data as { lepton?: { code: string; message: string } } | undefined)?.lepton;
      if (lepton) throw new LeptonError(lepton.code, lepton.message);
      throw new LeptonError('UPSTREAM_UNAVAILABLE', `server ${server} did not answer: ${err.message}`);
    }
    throw err;
  }
}
