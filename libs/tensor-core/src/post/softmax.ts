import { invalid, outputBuffer } from '../quant/validate';
import { detLog } from './det-math';
import { expForFloat32 } from './fast-exp';
import { axisView } from './rows';

/**
 * Softmax along `axis` (ONNX opset 13 semantics, default -1): exp(x - max) / sum, max-subtracted so large
 * logits do not overflow; exp and the sum in float64 (engine-independent exp), outputs rounded to float32. A row holding NaN gives NaN.
 */
export function softmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, false);
}

/** log(softmax(x)) computed as (x - max) - log(sum exp(x - max)), stable for very negative outputs. */
export function logSoftmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, true);
}

// Exponentials of the current lane, kept in float64 between the sum and the division (grown on demand, reused).
let lane = new Float64Array(1024);

function run(x: Float32Array, shape: readonly number[], axis: number, out: Float32Array | undefined, log: boolean): Float32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const { outer, dim, inner, count } = axisView(x, shape, axis);
  const dst = outputBuffer('out', out, Float32Array, count);
  if (lane.length < dim) lane = new Float64Array(dim);
  const e = lane;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      const end = base + dim * inner;
      let max = -Infinity;
      for (let k = base; k < end; k += inner) {
        const v = x[k]!;
        if (v > max) max = v;
        else if (v !== v) {
          max = v;
          break;
        }
      }
      let sum = 0;
      for (let k = base, d = 0; k < end; k += inner, d++) {
        const v = expForFloat32(x[k]! - max);
        e[d] = v;
        sum += v;
      }
      if (log) {
        const ls = detLog(sum);
        for (let k = base; k < end; k += inner) dst[k] = x[k]! - max - ls;
      } else {
        // Divide rather than multiply by 1 / sum: one float64 rounding before the float32 one.
        for (let k = base, d = 0; k < end; k += inner, d++) dst[k] = e[d]! / sum;
      }
    }
  }
  return dst;
}

/** Logistic sigmoid 1 / (1 + e^-x), written so neither branch overflows; float64 inside, float32 out. */
export function sigmoid(x: Float32Array, out?: Float32Array): Float32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const dst = outputBuffer('out', out, Float32Array, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v >= 0) dst[i] = 1 / (1 + expForFloat32(-v));
    else {
      const e = expForFloat32(v);
      dst[i] = e / (1 + e);
    }
  }
  return dst;
}
