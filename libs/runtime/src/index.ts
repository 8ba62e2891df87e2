export * from './ort';
export * from './predictor';
export * from './vad';
