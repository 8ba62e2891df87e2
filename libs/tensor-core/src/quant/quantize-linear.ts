import { resolveLayout, type QuantAxisOptions, type QuantLayout } from './layout';
import {
  QUANT_LIMITS,
  checkQuantDType,
  isPacked,
  quantStorageCtor,
  quantStorageLength,
  writeNibble,
  type QuantDType,
  type QuantStorage,
} from './quant-dtype';
import { quantize8Simd } from './simd-quantize';
import { checkLength, invalid, outputBuffer } from './validate';

/** Scale and zero point in the layout ONNX uses (see QuantLayout); zero points are plain numbers, not packed. */
export interface QuantParamsSpec<D extends QuantDType = QuantDType> extends QuantAxisOptions {
  dtype: D;
  scale: number | Float32Array;
  /** Defaults to 0. Same length as scale. */
  zeroPoint?: number | ArrayLike<number>;
}

export interface ResolvedQuantParams {
  layout: QuantLayout;
  scale: Float32Array;
  zeroPoint: Int32Array;
  qmin: number;
  qmax: number;
}

/** Validate x's shape against scale/zero point once; loops behind this trust the result. */
export function resolveQuantParams(shape: readonly number[], spec: QuantParamsSpec): ResolvedQuantParams {
  const dtype = checkQuantDType('dtype', spec.dtype);
  const scale = typeof spec.scale === 'number' ? Float32Array.of(spec.scale) : spec.scale;
  if (!(scale instanceof Float32Array)) invalid('scale', 'must be a number or a Float32Array');
  const layout = resolveLayout(shape, scale.length, spec);
  for (let i = 0; i < scale.length; i++) {
    const s = scale[i]!;
    // ONNX requires a positive scale; 0, negative or NaN would turn every value into NaN/Inf garbage.
    if (!(s > 0) || s === Infinity) invalid(`scale[${i}]`, `is ${s}; expected a finite positive float32`);
  }
  const [qmin, qmax] = QUANT_LIMITS[dtype];
  const zp = new Int32Array(scale.length);
  const given = spec.zeroPoint ?? 0;
  if (typeof given !== 'number') checkLength('zeroPoint', given, scale.length);
  for (let i = 0; i < zp.length; i++) {
    const z = typeof given === 'number' ? given : given[i]!;
    if (!Number.isInteger(z) || z < qmin || z > qmax) {
      invalid(`zeroPoint[${i}]`, `is ${z}; expected an integer in [${qmin}, ${qmax}] for ${dtype}`);
    }
    zp[i] = z;
  }
  return { layout, scale, zeroPoint: zp, qmin, qmax };
}

/**
 * ONNX QuantizeLinear as onnxruntime 1.30 computes it: y = saturate(roundHalfEven(x / scale) + zeroPoint), the
 * division in float32. NaN becomes the type's minimum (what onnxruntime's kernels produce); +-Inf saturate.
 * Per tensor, per axis or blocked, chosen by the length of `scale` and `blockSize` (see QuantLayout).
 */
export function quantizeLinear<D extends QuantDType>(
  x: Float32Array,
  shape: readonly number[],
  spec: QuantParamsSpec<D>,
  out?: QuantStorage[D],
): QuantStorage[D] {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const p = resolveQuantParams(shape, spec);
  checkLength('x', x, p.layout.count);
  const dst = outputBuffer('out', out, quantStorageCtor(spec.dtype), quantStorageLength(spec.dtype, p.layout.count));
  quantizeResolved(x, p, isPacked(spec.dtype), dst);
  return dst as QuantStorage[D];
}

/** The loops, after validation. Exposed for DynamicQuantizeLinear and calibration. */
export function quantizeResolved(x: Float32Array, p: ResolvedQuantParams, packed: boolean, out: QuantStorage[QuantDType]): void {
  const { layout, scale, zeroPoint, qmin, qmax } = p;
  const { kind, outer, dim, inner, blockSize, blocks } = layout;
  if (packed && layout.count & 1) (out as Uint8Array)[out.length - 1] = 0;
  if (kind === 'tensor') {
    if (packed) runPacked(x, 0, layout.count, scale[0]!, zeroPoint[0]!, qmin, qmax, out as Uint8Array);
    else runDense(x, 0, layout.count, scale[0]!, zeroPoint[0]!, qmin, qmax, out);
    return;
  }
  for (let o = 0; o < outer; o++) {
    if (kind === 'axis') {
      for (let d = 0; d < dim; d++) {
        const start = (o * dim + d) * inner;
        if (packed) runPacked(x, start, inner, scale[d]!, zeroPoint[d]!, qmin, qmax, out as Uint8Array);
        else runDense(x, start, inner, scale[d]!, zeroPoint[d]!, qmin, qmax, out);
      }
    } else if (inner === 1) {
      for (let b = 0; b < blocks; b++) {
        const d0 = b * blockSize;
        const n = Math.min(blockSize, dim - d0);
        const k = o * blocks + b;
        if (packed) runPacked(x, o * dim + d0, n, scale[k]!, zeroPoint[k]!, qmin, qmax, out as Uint8Array);
        else runDense(x, o * dim + d0, n, scale[k]!, zeroPoint[k]!, qmin, qmax, out);
      }
    } else {
      for (let d = 0; d < dim; d++) {
        const start = (o * dim + d) * inner;
        const k = (o * blocks + ((d / blockSize) | 0)) * inner;
        for (let i = 0; i < inner; i++) {
          if (packed) runPacked(x, start + i, 1, scale[k + i]!, zeroPoint[k + i]!, qmin, qmax, out as Uint8Array);
          else runDense(x, start + i, 1, scale[k + i]!, zeroPoint[k + i]!, qmin, qmax, out);
        }
      }
    }
  }
}

const RNE_MAGIC = 6755399441055744;

// Clamping to [qmin - zp, qmax - zp] before rounding equals rounding then saturating (the bounds are integers),
// keeps the magic-number rounding in its exact range, and sends NaN (which fails `v > lo`) to qmin.
function runDense(
  x: Float32Array,
  start: number,
  n: number,
  scale: number,
  zp: number,
  qmin: number,
  qmax: number,
  out: { [i: number]: number },
): void {
  const lo = qmin - zp;
  const hi = qmax - zp;
  const end = start + n;
  let i = start;
  // 8-bit runs long enough to repay the copy go through the WebAssembly SIMD kernel (same arithmetic).
  if (n >= SIMD_MIN && (out instanceof Uint8Array || out instanceof Int8Array)) {
    const body = n - (n % 16);
    if (quantize8Simd(x, start, body, scale, lo, hi, zp, out)) i += body;
  }
  for (; i < end; i++) {
    let v = Math.fround(x[i]! / scale);
    v = v > lo ? (v < hi ? v : hi) : lo;
    out[i] = v + RNE_MAGIC - RNE_MAGIC + zp;
  }
}

/** Shortest run worth the SIMD kernel's copies in and out (measured: below it the plain loop wins). */
const SIMD_MIN = 64;

function runPacked(x: Float32Array, start: number, n: number, scale: number, zp: number, qmin: number, qmax: number, out: Uint8Array): void {
  const lo = qmin - zp;
  const hi = qmax - zp;
  const end = start + n;
  for (let i = start; i < end; i++) {
    let v = Math.fround(x[i]! / scale);
    v = v > lo ? (v < hi ? v : hi) : lo;
    writeNibble(out, i, v + RNE_MAGIC - RNE_MAGIC + zp);
  }
}
