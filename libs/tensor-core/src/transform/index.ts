// Layout conversions: transpose, NHWC <-> NCHW, ONNX Resize, crop.
export * from './transpose';
export * from './resize';
export * from './crop';
