export * from './ort';
export * from './predictor';
export { validateFeeds, type DimBindings } from './feeds';
export { toOrtTensor, fromOrtTensor } from './ort-tensors';
export * from './segments';
export * from './vad-pipeline';
export * from './vad';
export * from './models/silero-vad-v5';
export * from './batching';
