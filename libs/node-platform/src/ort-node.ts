import * as ortNode from 'onnxruntime-node';
import type { OrtModule } from '@lepton/runtime';

/** onnxruntime-node as the predictor's injected runtime module (CPU execution provider). */
export const ort: OrtModule = ortNode as unknown as OrtModule;
export { ortNode };
