import * as ort from 'onnxruntime-web';
import { LeptonError } from '@lepton/tensor-core';
import { decodeBase64, decodeWireTensor, encodeWireTensor, type ModelRecord, type Variant, type WireTensor } from '@lepton/contracts';
import { createPredictor, detectSpeech, manifestForVariant, variantSessionOptions, type Predictor } from '@lepton/runtime';
import type { ParityRunInput } from '@lepton/api';
import { fetchModelBytes, pickWebVariant, type LeptonClient } from './api-client';
import { describeError } from './errors';
import { feedsCanonicalBytes, recordFeeds, sha256Hex } from './parity-digest';

// Same set-up as the VAD view (our server serves the wasm at /ort/, one thread). The platform 'browser' is WASM
// only, so its numbers are comparable with the server's CPU kernels; 'browser-webgpu' asks for onnxruntime-web's
// WebGPU backend explicitly and fails (WEBGPU_UNAVAILABLE) where the browser has no adapter, never running WASM
// in its place. (Nodes WebGPU has no kernel for still run on WASM inside that session: onnxruntime-web's own
// partitioning, as a user's WebGPU session would do.)
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;

export const BROWSER_RUNTIME = `onnxruntime-web@${ort.env.versions.web ?? '1.30'} (wasm, 1 thread)`;

export type BrowserExecutionProvider = 'wasm' | 'webgpu';

/** The slice of WebGPU's navigator.gpu this file reads (the app compiles without @webgpu/types). */
interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

/** The WebGPU adapter, described for the report (vendor/architecture), or WEBGPU_UNAVAILABLE saying what is missing. */
async function webgpuAdapter(): Promise<string> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (gpu === undefined) {
    throw new LeptonError('WEBGPU_UNAVAILABLE', 'this browser has no navigator.gpu (WebGPU is off, or the page is not a secure context); expected a WebGPU-capable browser for platform browser-webgpu');
  }
  const adapter = await gpu.requestAdapter();
  if (adapter === null) {
    throw new LeptonError('WEBGPU_UNAVAILABLE', 'navigator.gpu.requestAdapter() returned null (no usable GPU or software adapter); expected a WebGPU adapter for platform browser-webgpu');
  }
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description].filter((x) => x !== undefined && x !== '').join('/') || 'unknown adapter';
}

export interface BrowserRunRequest {
  model: string;
  version?: string;
  /** The variant to run, by id (the parity harness names the one every platform runs); default: pickWebVariant. */
  variant?: string;
  /** Generic models: the feeds on the wire. */
  inputs?: WireTensor[];
  /** VAD models: a WAV file (base64), run through the manifest's pipeline like vad.detect. */
  wav?: string;
  outputs?: string[];
  /** Release the session afterwards (the conformance runner loads a thousand models, one at a time). */
  release?: boolean;
  /** onnxruntime-web backend (default 'wasm'); 'webgpu' reports as platform 'browser-webgpu'. */
  executionProvider?: BrowserExecutionProvider;
}

const predictors = new Map<string, Promise<{ record: ModelRecord; predictor: Predictor; variant: Variant | undefined }>>();

function variantOf(record: ModelRecord, id: string | undefined): Variant | undefined {
  if (id === undefined) return pickWebVariant(record);
  const found = record.variants.find((v) => v.id === id);
  if (!found) {
    throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no variant ${JSON.stringify(id)}; variants: ${record.variants.map((v) => v.id).join(', ') || '(none)'}`);
  }
  return found;
}

async function predictorFor(client: LeptonClient, model: string, version: string | undefined, variantId: string | undefined, ep: BrowserExecutionProvider) {
  const key = `${model}@${version ?? ''}#${variantId ?? ''}/${ep}`;
  let pending = predictors.get(key);
  if (!pending) {
    pending = (async () => {
      const record = await client.models.get.query({ id: model, ...(version ? { version } : {}) });
      const variant = variantOf(record, variantId);
      // fetchModelBytes checks the bytes against variant.sha256 before onnxruntime-web sees them.
      const bytes = await fetchModelBytes(record, variant);
      const predictor = await createPredictor({ manifest: manifestForVariant(record.manifest, variant), model: bytes, ort, executionProviders: [ep] });
      return { record, predictor, variant };
    })();
    pending.catch(() => predictors.delete(key));
    predictors.set(key, pending);
  }
  return { key, loaded: await pending };
}

/**
 * Run a registered model in this page with onnxruntime-web, as a parity platform: decode the wire feeds (or
 * decode, resample and frame the WAV) with the same libraries as the server, record the exact feeds for the
 * digest, run, and hand the outputs back on the wire. Errors come back as `{ ok: false, error }`.
 */
export async function runInBrowser(client: LeptonClient, req: BrowserRunRequest): Promise<ParityRunInput> {
  const ep = req.executionProvider ?? 'wasm';
  const base = {
    platform: ep === 'webgpu' ? ('browser-webgpu' as const) : ('browser' as const),
    runtime: BROWSER_RUNTIME,
    executionProvider: ep,
    answeredBy: 'browser',
  };
  let key: string | undefined;
  try {
    if (ep === 'webgpu') base.runtime = `onnxruntime-web@${ort.env.versions.web ?? '1.30'} (webgpu, adapter ${await webgpuAdapter()})`;
    else if (ep !== 'wasm') throw new LeptonError('VALIDATION_FAILED', `executionProvider ${JSON.stringify(ep)} is not one the page runs; expected wasm or webgpu`);
    const found = await predictorFor(client, req.model, req.version, req.variant, ep);
    key = found.key;
    const { record, predictor, variant } = found.loaded;
    const recorded = recordFeeds(predictor);
    const t0 = performance.now();
    let outputs: WireTensor[];
    if (req.wav !== undefined) {
      const run = await detectSpeech(recorded.predictor, decodeBase64(req.wav));
      outputs = [encodeWireTensor('probabilities', { dtype: 'float32', shape: [run.probabilities.length], data: Float32Array.from(run.probabilities) })];
    } else {
      const feeds = Object.fromEntries((req.inputs ?? []).map((w) => [w.name, decodeWireTensor(w)] as const));
      const result = await recorded.predictor.run(feeds);
      const names = req.outputs ?? record.manifest.outputs.map((o) => o.name);
      outputs = names.filter((n) => result[n]).map((n) => encodeWireTensor(n, result[n]!));
    }
    const inferenceMs = performance.now() - t0;
    return {
      ...base,
      ok: true,
      outputs,
      feedsSha256: await sha256Hex(feedsCanonicalBytes(recorded.calls)),
      steps: recorded.calls.length,
      sessionOptions: variantSessionOptions(record.manifest, variant),
      ...(variant ? { artifactSha256: variant.sha256, variant: variant.id } : {}),
      inferenceMs,
    };
  } catch (err) {
    const { code, message } = describeError(err, 'browser');
    // onnxruntime-web 1.30: after a WebGPU kernel throws, every later WebGPU run in the page fails with "kernel ...
    // is not allowed to be called recursively" (tools/conformance/README.md, WebGPU). Say what the user can do.
    const stuck = ep === 'webgpu' && /not allowed to be called recursively/.test(message);
    return { ...base, ok: false, error: { code, message: stuck ? `${message} (onnxruntime-web's WebGPU backend is unusable in this page after an earlier kernel error; reload the page to run on WebGPU again)` : message } };
  } finally {
    if (req.release && key) {
      const pending = predictors.get(key);
      predictors.delete(key);
      await pending?.then((p) => p.predictor.release()).catch(() => undefined);
    }
  }
}
