import { resolveLayout } from './layout';
import { quantizeResolved } from './quantize-linear';
import { roundHalfEven } from './quant-dtype';
import { quantize8SimdAfterRange, rangeSimd } from './simd-quantize';
import { invalid, outputBuffer } from './validate';

export interface DynamicQuantizeResult {
  y: Uint8Array;
  scale: number;
  zeroPoint: number;
}

/** Shortest input worth the SIMD range and quantize kernels' copies (as quantize-linear.ts's SIMD_MIN). */
const SIMD_MIN = 64;

/**
 * ONNX DynamicQuantizeLinear (uint8) as onnxruntime 1.30 computes it, in float32: the range [min(x), max(x)]
 * (NaN ignored) is widened to include 0; scale = (max - min) / 255, or 1 when max == min; zero point =
 * roundHalfEven(clamp(0 - min / scale, 0, 255)); then QuantizeLinear. Like onnxruntime, an infinite input gives
 * an infinite scale; use calibration observers and quantParamsFromRange to get a finite scale from dirty data.
 * Inputs of 64+ values take the WebAssembly SIMD range and quantize kernels (simd-quantize.ts); the plain loops
 * below are their reference (setSimdEnabled(false)).
 */
export function dynamicQuantizeLinear(x: Float32Array, out?: Uint8Array): DynamicQuantizeResult {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const n = x.length;
  const y = outputBuffer('out', out, Uint8Array, n);
  const fast = n >= SIMD_MIN ? rangeSimd(x) : null;
  let min = 0;
  let max = 0;
  if (fast) {
    min = fast.min;
    max = fast.max;
  } else {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  }
  const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / 255);
  const initial = Math.fround(0 - Math.fround(min / scale));
  // Clamp in onnxruntime's operand order (std::max(qmin, std::min(qmax, v))) so a NaN from -Inf / Inf gives 255.
  const upper = initial < 255 ? initial : 255;
  const zeroPoint = roundHalfEven(0 < upper ? upper : 0);
  // The SIMD body right after the range pass (which left a chunk in place), then the < 16 left over (or, without
  // the SIMD kernels, everything) through the plain quantize loop.
  const body = fast ? n - (n % 16) : 0;
  if (fast) quantize8SimdAfterRange(x, body, fast.last, scale, 0 - zeroPoint, 255 - zeroPoint, zeroPoint, y);
  if (body < n) {
    const params = { layout: resolveLayout([n - body], 1, {}), scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint), qmin: 0, qmax: 255 };
    quantizeResolved(body ? x.subarray(body) : x, params, false, body ? y.subarray(body) : y);
  }
  return { y, scale, zeroPoint };
}
