import type { SessionOptions } from '@lepton/contracts';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';

/**
 * The part of an onnxruntime module (onnxruntime-node or onnxruntime-web; both re-export onnxruntime-common)
 * the predictor needs. Apps pass the module in; this library never imports a runtime.
 */
export interface OrtModule {
  InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  Tensor: typeof OrtTensor;
}

export type OrtSession = InferenceSession;

/**
 * The manifest's session options as onnxruntime options, every field set explicitly: onnxruntime-node and
 * onnxruntime-web have different defaults (thread counts, optimization level), and those change numerics.
 */
export function toOrtSessionOptions(
  options: SessionOptions,
  executionProviders?: InferenceSession.SessionOptions['executionProviders'],
): InferenceSession.SessionOptions {
  const out: InferenceSession.SessionOptions = {
    graphOptimizationLevel: options.graphOptimizationLevel,
    intraOpNumThreads: options.intraOpNumThreads,
    interOpNumThreads: options.interOpNumThreads,
    executionMode: options.executionMode,
  };
  if (executionProviders !== undefined) out.executionProviders = executionProviders;
  return out;
}
