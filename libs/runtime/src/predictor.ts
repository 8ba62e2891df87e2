import type { Tensor } from '@lepton/tensor-core';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelManifest } from '@lepton/contracts';
import type { OrtModule } from './ort';

export type Feeds = Record<string, Tensor>;

/** One streaming conversation with a stateful model: state outputs of call n feed state inputs of call n + 1. */
export interface PredictorStream {
  step(feeds: Feeds): Promise<Feeds>;
  reset(): void;
}

export interface Predictor {
  readonly manifest: ModelManifest;
  /**
   * Validate feeds against the manifest (names, dtypes, shapes within maxShape: TENSOR_* / INPUT_* errors),
   * add constant feeds, run, return all outputs as Lepton tensors (float16 as Uint16Array bits, int64 as
   * BigInt64Array).
   */
  run(feeds: Feeds): Promise<Feeds>;
  openStream(): PredictorStream;
  release(): Promise<void>;
}

export interface CreatePredictorOptions {
  manifest: ModelManifest;
  model: Uint8Array;
  ort: OrtModule;
}

/** STUB: implemented by the runtime first cut. Errors: MODEL_LOAD_FAILED naming the model. */
export async function createPredictor(_opts: CreatePredictorOptions): Promise<Predictor> {
  throw new LeptonError('NOT_IMPLEMENTED', 'createPredictor');
}
