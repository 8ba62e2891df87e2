import { quantParamsFromRange, quantizeLinear } from '@lepton/tensor-core';
import { OnnxType } from '../proto/types';
import type { QuantizedWeight } from './common';

export type WeightDType = 'int8' | 'uint8';

export interface WeightQuantOptions {
  dtype: WeightDType;
  /** Channel axis, or undefined for one scale for the whole tensor. */
  axis?: number;
  /** Symmetric around 0 (zero point 0 for int8, 128 for uint8); default true for int8. */
  symmetric?: boolean;
  /** 7-bit weights; see int8-dynamic's documentation of the u8s8 saturation case. */
  reduceRange?: boolean;
}

/** Min and max per channel of `axis` (one pair for per-tensor), in one pass over the data. */
export function channelRanges(x: Float32Array, dims: readonly number[], axis: number | undefined): { min: Float32Array; max: Float32Array } {
  const dim = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? x.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = axis === undefined ? 1 : dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const min = new Float32Array(dim).fill(Infinity);
  const max = new Float32Array(dim).fill(-Infinity);
  if (inner === 1 && dim > 1) {
    // Channels on the last axis (MatMul B [K, N]): walk rows, one element per channel.
    for (let o = 0, i = 0; o < outer; o++) {
      for (let d = 0; d < dim; d++, i++) {
        const v = x[i]!;
        if (v < min[d]!) min[d] = v;
        if (v > max[d]!) max[d] = v;
      }
    }
  } else for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      let lo = min[d]!;
      let hi = max[d]!;
      const start = (o * dim + d) * inner;
      for (let i = start, end = start + inner; i < end; i++) {
        const v = x[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      min[d] = lo;
      max[d] = hi;
    }
  }
  for (let d = 0; d < dim; d++) {
    // A channel of only NaN/Inf (or an empty tensor) gets the degenerate range; quantParamsFromRange then uses scale 1.
    if (!Number.isFinite(min[d]!) || !Number.isFinite(max[d]!)) {
      min[d] = 0;
      max[d] = 0;
    }
  }
  return { min, max };
}

/** Quantize float32 weights with tensor-core's QuantizeLinear, returning what replaceWithDequantize needs. */
export function quantizeWeight(x: Float32Array, dims: readonly number[], options: WeightQuantOptions): QuantizedWeight {
  const { min, max } = channelRanges(x, dims, options.axis);
  const symmetric = options.symmetric ?? options.dtype === 'int8';
  const n = min.length;
  const scale = new Float32Array(n);
  const zp = options.dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    const p = quantParamsFromRange(min[c]!, max[c]!, { dtype: options.dtype, symmetric, reduceRange: options.reduceRange ?? false });
    scale[c] = p.scale;
    zp[c] = p.zeroPoint;
  }
  const data = quantizeLinear(x, dims, {
    dtype: options.dtype,
    scale: options.axis === undefined ? scale[0]! : scale,
    zeroPoint: options.axis === undefined ? zp[0]! : Array.from(zp),
    ...(options.axis === undefined ? {} : { axis: options.axis }),
  });
  const dataType = options.dtype === 'int8' ? OnnxType.INT8 : OnnxType.UINT8;
  return { dataType, data, scale, zeroPoint: zp, zeroPointType: dataType, ...(options.axis === undefined ? {} : { axis: options.axis }) };
}

/** Largest |dequantized - original| (ignoring non-finite originals), for the report. */
export function maxQuantError(x: Float32Array, dims: readonly number[], q: QuantizedWeight): number {
  const n = q.scale.length;
  const inner = q.axis === undefined ? x.length : dims.slice(q.axis + 1).reduce((a, b) => a * b, 1);
  const data = q.data as Int8Array | Uint8Array;
  const zp = q.zeroPoint as Int8Array | Uint8Array;
  let worst = 0;
  if (inner === 1 && n > 1) {
    for (let i = 0, c = 0; i < x.length; i++, c = c + 1 === n ? 0 : c + 1) {
      const e = Math.abs((data[i]! - zp[c]!) * q.scale[c]! - x[i]!);
      if (e > worst) worst = e;
    }
    return worst;
  }
  // x is [outer, n, inner] (n = 1 per tensor): walk it block by block instead of dividing per element.
  for (let start = 0, c = 0; start < x.length; start += inner, c = c + 1 === n ? 0 : c + 1) {
    const s = q.scale[c]!;
    const z = zp[c]!;
    for (let i = start, end = Math.min(start + inner, x.length); i < end; i++) {
      const e = Math.abs((data[i]! - z) * s - x[i]!);
      if (e > worst) worst = e;
    }
  }
  return worst;
}
