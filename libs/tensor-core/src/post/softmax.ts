import { invalid, outputBuffer } from '../quant/validate';
import { detExp, detLog } from './det-math';
import { axisView } from './rows';

/**
 * Softmax along `axis` (ONNX opset 13 semantics, default -1): exp(x - max) / sum, max-subtracted so large
 * logits do not overflow; exp and the sum in float64, outputs rounded to float32. A row holding NaN gives NaN.
 */
export function softmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, false);
}

/** log(softmax(x)) computed as (x - max) - log(sum exp(x - max)), stable for very negative outputs. */
export function logSoftmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, true);
}

function run(x: Float32Array, shape: readonly number[], axis: number, out: Float32Array | undefined, log: boolean): Float32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const { outer, dim, inner, count } = axisView(x, shape, axis);
  const dst = outputBuffer('out', out, Float32Array, count);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      const end = base + dim * inner;
      let max = -Infinity;
      for (let k = base; k < end; k += inner) {
        const v = x[k]!;
        if (v > max || v !== v) max = v;
        if (v !== v) break;
      }
      let sum = 0;
      for (let k = base; k < end; k += inner) sum += detExp(x[k]! - max);
      if (log) {
        const ls = detLog(sum);
        for (let k = base; k < end; k += inner) dst[k] = x[k]! - max - ls;
      } else {
        for (let k = base; k < end; k += inner) dst[k] = detExp(x[k]! - max) / sum;
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
    if (v >= 0) dst[i] = 1 / (1 + detExp(-v));
    else {
      const e = detExp(v);
      dst[i] = e / (1 + e);
    }
  }
  return dst;
}
