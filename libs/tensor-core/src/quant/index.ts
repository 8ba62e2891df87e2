// Quantization math with onnxruntime's numerics: float32 intermediates, round half to even, saturation.
export * from './quant-dtype';
export * from './layout';
export * from './quantize-linear';
export * from './dequantize-linear';
export * from './dynamic-quantize';
export * from './params';
export { setSimdEnabled, simdAvailable } from './simd-quantize';
