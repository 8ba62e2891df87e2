import { checkInteger, invalid, outputBuffer } from '../quant/validate';
import { axisView } from './rows';

export interface ArgMaxOptions {
  /** Axis to reduce (ONNX ArgMax default 0). */
  axis?: number;
  /** On ties return the last index instead of the first (ONNX select_last_index). */
  selectLastIndex?: boolean;
}

/** Shape of argmax's output: the reduced axis removed (keepdims=1 in ONNX keeps it as 1; same data). */
export function reducedShape(shape: readonly number[], axis: number, keepdims: boolean): number[] {
  const a = axis < 0 ? axis + shape.length : axis;
  return keepdims ? shape.map((d, i) => (i === a ? 1 : d)) : shape.filter((_, i) => i !== a);
}

/**
 * ONNX ArgMax: index of the largest value along `axis`, first index on ties (last with selectLastIndex). Like
 * onnxruntime's scan (`if (v > best)`), no comparison with NaN succeeds: a NaN in the first position is kept,
 * NaNs elsewhere are skipped. Indices are Int32Array (ONNX returns int64; widen with BigInt64Array.from).
 */
export function argmax(x: Float32Array, shape: readonly number[], options: ArgMaxOptions = {}, out?: Int32Array): Int32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const { outer, dim, inner } = axisView(x, shape, options.axis ?? 0);
  if (dim === 0 && outer * inner > 0) invalid('shape', 'has a zero-size reduced axis; argmax of an empty lane is undefined');
  const dst = outputBuffer('out', out, Int32Array, outer * inner);
  const last = options.selectLastIndex ?? false;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let best = x[base]!;
      let at = 0;
      for (let d = 1; d < dim; d++) {
        const v = x[base + d * inner]!;
        if (v > best || (last && v === best)) {
          best = v;
          at = d;
        }
      }
      dst[o * inner + i] = at;
    }
  }
  return dst;
}

export interface TopKOptions {
  /** Axis (default -1, as ONNX TopK). */
  axis?: number;
  /** Largest (default) or smallest k. */
  largest?: boolean;
}

export interface TopKResult {
  values: Float32Array;
  indices: Int32Array;
  /** Input shape with the axis replaced by k. */
  shape: number[];
}

/**
 * ONNX TopK with sorted=1: the k largest (or smallest) values along `axis` in order, ties broken by the lower
 * index as onnxruntime does. NaN ranks above every number (first for largest, last for smallest, as torch.topk);
 * onnxruntime's order for NaN depends on where it sits, so it has no single rule to follow. k is validated.
 */
export function topK(
  x: Float32Array,
  shape: readonly number[],
  k: number,
  options: TopKOptions = {},
  out?: { values?: Float32Array; indices?: Int32Array },
): TopKResult {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const view = axisView(x, shape, options.axis ?? -1);
  if (shape.length === 0) invalid('shape', 'is a scalar; TopK needs at least one axis');
  const { outer, dim, inner, axis } = view;
  checkInteger('k', k, 0, dim);
  const n = outer * k * inner;
  const values = outputBuffer('out.values', out?.values, Float32Array, n);
  const indices = outputBuffer('out.indices', out?.indices, Int32Array, n);
  const largest = options.largest ?? true;
  // Selection buffer reused for every lane: k entries kept sorted by insertion.
  const bufV = new Float64Array(k);
  const bufI = new Int32Array(k);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i;
      let filled = 0;
      for (let d = 0; d < dim && k > 0; d++) {
        const raw = x[base + d * inner]!;
        // Compare on a key where "better" is larger (negated for smallest).
        const v = largest ? raw : -raw;
        if (filled === k && !beats(v, d, bufV[k - 1]!, bufI[k - 1]!, largest)) continue;
        let j = filled < k ? filled++ : k - 1;
        while (j > 0 && beats(v, d, bufV[j - 1]!, bufI[j - 1]!, largest)) {
          bufV[j] = bufV[j - 1]!;
          bufI[j] = bufI[j - 1]!;
          j--;
        }
        bufV[j] = v;
        bufI[j] = d;
      }
      const ob = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        values[ob + j * inner] = largest ? bufV[j]! : -bufV[j]!;
        indices[ob + j * inner] = bufI[j]!;
      }
    }
  }
  return { values, indices, shape: shape.map((d, a) => (a === axis ? k : d)) };
}

/** Does (v, i) rank before (w, j)? NaN is best when nanBest, else worst; equal keys go by lower index. */
function beats(v: number, i: number, w: number, j: number, nanBest: boolean): boolean {
  if (v !== v) return w !== w ? i < j : nanBest;
  if (w !== w) return !nanBest;
  return v > w || (v === w && i < j);
}
