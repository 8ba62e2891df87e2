import * as ort from 'onnxruntime-web';
import type { ModelRecord, VadOptions } from '@lepton/contracts';
import { createPredictor, detectSpeech, manifestForVariant, type Predictor, type VadRun } from '@lepton/runtime';
import { fetchModelBytes, pickWebVariant } from './api-client';
import { encodeWav16 } from './wav-encoder';

// Our server serves onnxruntime-web's files at /ort/ (never a CDN: devices and tests have no internet). One
// thread means no SharedArrayBuffer, so the page needs no cross-origin isolation headers.
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;

const predictors = new Map<string, Promise<Predictor>>();

/**
 * One predictor per model version for the life of the page: the download and session creation happen once, so
 * the latency shown per run is inference, comparable to the server's warm session.
 */
export function loadPredictor(model: ModelRecord): Promise<Predictor> {
  const key = `${model.id}@${model.version}`;
  let pending = predictors.get(key);
  if (!pending) {
    pending = (async () => {
      const variant = pickWebVariant(model);
      const bytes = await fetchModelBytes(model, variant);
      // WASM only, even where WebGPU exists: the point of this page is the same numbers as the server's CPU run.
      const predictor = await createPredictor({ manifest: manifestForVariant(model.manifest, variant), model: bytes, ort, executionProviders: ['wasm'] });
      // One throw-away second of silence lets the browser finish compiling the hot WASM code, so the first
      // latency shown is the steady state, like the server's native kernels (results are per run, so unaffected).
      await detectSpeech(predictor, encodeWav16(new Float32Array(16000), 16000));
      return predictor;
    })();
    // A failed load must not stick: the next attempt (e.g. after the server comes back) retries.
    pending.catch(() => predictors.delete(key));
    predictors.set(key, pending);
  }
  return pending;
}

export interface BrowserVadRun extends VadRun {
  /** Wall time of detectSpeech in the page: decode + resample + frame + inference + postprocess. */
  totalMs: number;
}

export async function detectInBrowser(model: ModelRecord, wav: Uint8Array, options: VadOptions): Promise<BrowserVadRun> {
  const predictor = await loadPredictor(model);
  const t0 = performance.now();
  const run = await detectSpeech(predictor, wav, options);
  return { ...run, totalMs: performance.now() - t0 };
}
