import * as ort from 'onnxruntime-web';
import { LeptonError } from '@lepton/tensor-core';
import { decodeBase64, decodeWireTensor, encodeWireTensor, type ModelRecord, type Variant, type WireTensor } from '@lepton/contracts';
import { createPredictor, detectSpeech, manifestForVariant, variantSessionOptions, type Predictor } from '@lepton/runtime';
import type { ParityRunInput } from '@lepton/api';
import { fetchModelBytes, pickWebVariant, type LeptonClient } from './api-client';
import { describeError } from './errors';
import { feedsCanonicalBytes, recordFeeds, sha256Hex } from './parity-digest';

// Same set-up as the VAD view (our server serves the wasm at /ort/, one thread): WASM only, never WebGPU, so the
// browser's numbers are comparable with the server's CPU kernels.
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;

export const BROWSER_RUNTIME = `onnxruntime-web@${ort.env.versions.web ?? '1.30'} (wasm, 1 thread)`;

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

async function predictorFor(client: LeptonClient, model: string, version: string | undefined, variantId: string | undefined) {
  const key = `${model}@${version ?? ''}#${variantId ?? ''}`;
  let pending = predictors.get(key);
  if (!pending) {
    pending = (async () => {
      const record = await client.models.get.query({ id: model, ...(version ? { version } : {}) });
      const variant = variantOf(record, variantId);
      // fetchModelBytes checks the bytes against variant.sha256 before onnxruntime-web sees them.
      const bytes = await fetchModelBytes(record, variant);
      const predictor = await createPredictor({ manifest: manifestForVariant(record.manifest, variant), model: bytes, ort, executionProviders: ['wasm'] });
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
  const base = { platform: 'browser' as const, runtime: BROWSER_RUNTIME, executionProvider: 'wasm', answeredBy: 'browser' };
  let key: string | undefined;
  try {
    const found = await predictorFor(client, req.model, req.version, req.variant);
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
    return { ...base, ok: false, error: { code, message } };
  } finally {
    if (req.release && key) {
      const pending = predictors.get(key);
      predictors.delete(key);
      await pending?.then((p) => p.predictor.release()).catch(() => undefined);
    }
  }
}
