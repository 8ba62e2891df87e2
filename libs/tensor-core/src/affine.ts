import { LeptonError } from './errors';
import { sizeOf } from './tensor';

/** A scalar or one value per channel along `axis`. */
export type AffineParam = number | ArrayLike<number>;

/**
 * Parameters of the unified conversion x' = x / c * d + e (the seed formula for moving between platform
 * formats: c = 1.2, d = 0.5, e = 0.3 maps 1.2 to 0.8).
 */
export interface AffineParams {
  c: AffineParam;
  d: AffineParam;
  e: AffineParam;
  /**
   * Channel axis for per-channel vectors (negative counts from the end). Default 1 for rank >= 2 (NCHW, like
   * ONNX QuantizeLinear), 0 for rank 1. Ignored when every parameter is a scalar.
   */
  axis?: number;
}

function invalid(message: string, details?: Record<string, unknown>): LeptonError {
  return new LeptonError('PIPELINE_INVALID', message, details);
}

/** Parameter as float32 values, length 1 or `channels`; c must be non-zero and all must be finite. */
function paramValues(name: 'c' | 'd' | 'e', value: AffineParam, channels: number | undefined): Float32Array {
  const values = typeof value === 'number' ? [value] : value;
  const n = values.length;
  if (n === 0 || (n !== 1 && n !== channels)) {
    const expected = channels === undefined ? 'a scalar (no channel axis)' : `1 or ${channels} (dimension of the channel axis)`;
    throw invalid(`affine parameter ${name} has ${n} values; expected ${expected}`, { parameter: name, length: n });
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // The step runs in float32: a double past float32's range (1e39) would be Infinity there, and one below its
    // smallest subnormal (1e-46) 0, so c = 1e39 silently mapped every value to e.
    const f = typeof v === 'number' ? Math.fround(v) : NaN;
    if (!Number.isFinite(f) || (name === 'c' && f === 0)) {
      const want = name === 'c' ? 'a finite non-zero number' : 'a finite number';
      const why = typeof v === 'number' && Number.isFinite(v) && f !== v ? ` (it is ${f} in float32, the precision the step runs in)` : '';
      throw invalid(`affine parameter ${name}[${i}] is ${String(v)}${why}; expected ${want} within float32's range`, { parameter: name, index: i });
    }
    out[i] = v;
  }
  return out;
}

/**
 * x' = x / c * d + e on float32 data of the given shape, computed in float32: every intermediate is rounded with
 * Math.fround (as a float32 kernel would), so results are bit-identical on every platform. Writes into `out`
 * when given (it may be `x` itself); allocates only the result otherwise.
 * Throws PIPELINE_INVALID for a parameter of the wrong length, c = 0 or a non-finite parameter, and
 * TENSOR_SIZE_MISMATCH when `x` does not hold `shape`'s element count.
 */
export function affine(x: Float32Array, shape: readonly number[], params: AffineParams, out?: Float32Array): Float32Array {
  const count = sizeOf(shape);
  if (x.length !== count) {
    throw new LeptonError('TENSOR_SIZE_MISMATCH', `affine input holds ${x.length} values; shape [${shape.join(', ')}] needs ${count}`);
  }
  if (out !== undefined && out.length !== count) {
    throw new LeptonError('TENSOR_SIZE_MISMATCH', `affine output buffer holds ${out.length} values; expected ${count}`);
  }
  const perChannel = [params.c, params.d, params.e].some((p) => typeof p !== 'number');
  let axis = -1;
  if (perChannel) {
    const rank = shape.length;
    const requested = params.axis ?? (rank >= 2 ? 1 : 0);
    if (!Number.isInteger(requested) || requested < -rank || requested >= rank) {
      throw invalid(`affine axis is ${String(requested)}; expected an integer in [${-rank}, ${rank}) for shape [${shape.join(', ')}]`, {
        parameter: 'axis',
      });
    }
    axis = requested < 0 ? requested + rank : requested;
  }
  const channels = axis >= 0 ? shape[axis]! : undefined;
  const c = paramValues('c', params.c, channels);
  const d = paramValues('d', params.d, channels);
  const e = paramValues('e', params.e, channels);
  const y = out ?? new Float32Array(count);
  const fr = Math.fround;

  if (axis < 0) {
    const c0 = c[0]!;
    const d0 = d[0]!;
    const e0 = e[0]!;
    for (let i = 0; i < count; i++) y[i] = fr(fr(x[i]! / c0) * d0) + e0;
    return y;
  }
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  const dim = channels!;
  const outer = dim === 0 || inner === 0 ? 0 : count / (dim * inner);
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < dim; ch++) {
      const cc = c.length === 1 ? c[0]! : c[ch]!;
      const dd = d.length === 1 ? d[0]! : d[ch]!;
      const ee = e.length === 1 ? e[0]! : e[ch]!;
      // The last fround happens on the store into the Float32Array.
      for (const end = i + inner; i < end; i++) y[i] = fr(fr(x[i]! / cc) * dd) + ee;
    }
  }
  return y;
}

/** The same conversion on one value (float32 arithmetic), for scalars and documentation examples. */
export function affineScalar(x: number, c: number, d: number, e: number): number {
  const fr = Math.fround;
  return fr(fr(fr(fr(x) / fr(c)) * fr(d)) + fr(e));
}
