import { resolveLayout } from './layout';
import { quantizeResolved } from './quantize-linear';
import { roundHalfEven } from './quant-dtype';
import { checkLength, invalid, outputBuffer } from './validate';

export interface DynamicQuantizeResult {
  y: Uint8Array;
  scale: number;
  zeroPoint: number;
}

/**
 * ONNX DynamicQuantizeLinear (uint8) as onnxruntime 1.30 computes it, in float32: the range [min(x), max(x)]
 * (NaN ignored) is widened to include 0; scale = (max - min) / 255, or 1 when max == min; zero point =
 * roundHalfEven(clamp(0 - min / scale, 0, 255)); then QuantizeLinear. Like onnxruntime, an infinite input gives
 * an infinite scale; use calibration observers and quantParamsFromRange to get a finite scale from dirty data.
 */
export function dynamicQuantizeLinear(x: Float32Array, out?: Uint8Array): DynamicQuantizeResult {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const y = outputBuffer('out', out, Uint8Array, x.length);
  let min = 0;
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / 255);
  const initial = Math.fround(0 - Math.fround(min / scale));
  // Clamp in onnxruntime's operand order (std::max(qmin, std::min(qmax, v))) so a NaN from -Inf / Inf gives 255.
  const upper = initial < 255 ? initial : 255;
  const zeroPoint = roundHalfEven(0 < upper ? upper : 0);
  const layout = resolveLayout([x.length], 1, {});
  checkLength('x', x, layout.count);
  quantizeResolved(x, { layout, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint), qmin: 0, qmax: 255 }, false, y);
  return { y, scale, zeroPoint };
}
