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
