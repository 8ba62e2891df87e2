// Calibration: streaming observers that turn sample batches into quantization ranges.
export * from './observer';
export * from './histogram';
export * from './histogram-observers';
