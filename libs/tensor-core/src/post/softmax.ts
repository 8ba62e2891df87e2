import { invalid, outputBuffer } from '../quant/validate';
import { detLog } from './det-math';
import { expForFloat32 } from './fast-exp';
import { axisView } from './rows';

/**
 * Softmax along `axis` (ONNX opset 13 semantics, default -1): exp(x - max) / sum, max-subtracted so large
 * logits do not overflow; exp and the sum in float64 (engine-independent exp), outputs rounded to float32.
 * A lane holding NaN gives NaN.
 */
export function softmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, false);
}

/** log(softmax(x)) computed as (x - max) - log(sum exp(x - max)), stable for very negative outputs. */
export function logSoftmax(x: Float32Array, shape: readonly number[], axis = -1, out?: Float32Array): Float32Array {
  return run(x, shape, axis, out, true);
}

// Exponentials of the current lane, kept in float64 until the sum is known (grown on demand, then reused).
let lane = new Float64Array(1024);

function run(x: Float32Array, shape: readonly number[], axis: number, out: Float32Array | undefined, log: boolean): Float32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const { outer, dim, inner, count } = axisView(x, shape, axis);
  const dst = outputBuffer('out', out, Float32Array, count);
  if (lane.length < dim) lane = new Float64Array(dim);
  const e = lane;
  if (inner === 1 && !log) {
    for (let o = 0; o < outer; o++) softmaxRow(x, o * dim, dim, e, dst);
    return dst;
  }
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) lane1(x, o * dim * inner + i, dim, inner, e, dst, log);
  }
  return dst;
}

/** The common case, a contiguous row (softmax over the last axis): same arithmetic as lane1 with unit stride. */
function softmaxRow(x: Float32Array, base: number, n: number, e: Float64Array, dst: Float32Array): void {
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = x[base + k]!;
    if (v > max) max = v;
    else if (v !== v) {
      max = v;
      break;
    }
  }
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const v = expForFloat32(x[base + k]! - max);
    e[k] = v;
    sum += v;
  }
  const inv = 1 / sum;
  for (let k = 0; k < n; k++) dst[base + k] = e[k]! * inv;
}

/** One lane of `dim` values spaced `inner` apart, starting at `base`. */
function lane1(x: Float32Array, base: number, dim: number, inner: number, e: Float64Array, dst: Float32Array, log: boolean): void {
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
    return;
  }
  // The float64 reciprocal adds one float64 rounding, far below float32's; a multiply is cheaper than a divide.
  const inv = 1 / sum;
  for (let k = base, d = 0; k < end; k += inner, d++) dst[k] = e[d]! * inv;
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
