import { DTYPE_INFO, allocate, type DTypeStorage, type NumericDType, type TensorData } from './dtype';
import { LeptonError } from './errors';
import {
  bfloat16BitsToFloat32,
  bfloat16ToFloat32Array,
  float16BitsToFloat32,
  float16ToFloat32Array,
  float32ToBfloat16Array,
  float32ToBfloat16Bits,
  float32ToFloat16Array,
  float32ToFloat16Bits,
} from './float16';
import {
  bigintToFloat32,
  floatToInt32,
  floatToInt64,
  floatToUint32,
  floatToUint64,
  nibble,
  roundHalfAway,
} from './cast-scalar';
import { applyOrtNaNRules } from './cast-nan';
import { sizeOf, storageLength, type Tensor } from './tensor';

export { bigintToFloat32, floatToInt32, floatToInt64, floatToUint32, floatToUint64 } from './cast-scalar';

type Reader = (i: number) => number;
type BigReader = (i: number) => bigint;

/** Element i of a non-64-bit-integer tensor as a JS number (exact: float16/bfloat16 decoded, int4 unpacked). */
function numberReader(dtype: NumericDType, data: DTypeStorage[NumericDType]): Reader {
  switch (dtype) {
    case 'float16': {
      const d = data as Uint16Array;
      return (i) => float16BitsToFloat32(d[i]!);
    }
    case 'bfloat16': {
      const d = data as Uint16Array;
      return (i) => bfloat16BitsToFloat32(d[i]!);
    }
    case 'int4':
    case 'uint4': {
      const d = data as Uint8Array;
      const signed = dtype === 'int4';
      return (i) => nibble(d[i >> 1]! >> ((i & 1) << 2), signed);
    }
    default: {
      const d = data as ArrayLike<number>;
      return (i) => d[i]!;
    }
  }
}

function isFloat(dtype: NumericDType): boolean {
  return DTYPE_INFO[dtype].kind === 'float';
}

function isBig(dtype: NumericDType): boolean {
  return dtype === 'int64' || dtype === 'uint64';
}

/** Writes element i of the target from a number; `fromFloat` selects float (truncating) semantics. */
function writeFromNumber(to: NumericDType, out: DTypeStorage[NumericDType], fromFloat: boolean): (i: number, v: number) => void {
  switch (to) {
    case 'float32':
    case 'float64': {
      const o = out as Float32Array | Float64Array;
      return (i, v) => (o[i] = v);
    }
    case 'float16': {
      const o = out as Uint16Array;
      return (i, v) => (o[i] = float32ToFloat16Bits(v));
    }
    case 'bfloat16': {
      const o = out as Uint16Array;
      return (i, v) => (o[i] = float32ToBfloat16Bits(v));
    }
    case 'bool': {
      const o = out as Uint8Array;
      return (i, v) => (o[i] = v !== 0 ? 1 : 0);
    }
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32': {
      // Typed-array stores wrap an int32 to the narrower width, as a C++ static_cast does.
      const o = out as Int32Array;
      return fromFloat ? (i, v) => (o[i] = floatToInt32(v)) : (i, v) => (o[i] = v);
    }
    case 'uint32': {
      const o = out as Uint32Array;
      return fromFloat ? (i, v) => (o[i] = floatToUint32(v)) : (i, v) => (o[i] = v >>> 0);
    }
    case 'int64': {
      const o = out as BigInt64Array;
      return fromFloat ? (i, v) => (o[i] = floatToInt64(v)) : (i, v) => (o[i] = BigInt(v));
    }
    case 'uint64': {
      const o = out as BigUint64Array;
      return fromFloat ? (i, v) => (o[i] = floatToUint64(v)) : (i, v) => (o[i] = BigInt.asUintN(64, BigInt(v)));
    }
    case 'int4':
    case 'uint4': {
      const o = out as Uint8Array;
      return (i, v) => {
        const n = (fromFloat ? floatToInt32(roundHalfAway(v)) : v) & 0xf;
        const byte = i >> 1;
        o[byte] = i & 1 ? (o[byte]! & 0x0f) | (n << 4) : (o[byte]! & 0xf0) | n;
      };
    }
  }
}

/** Writes element i of the target from a 64-bit integer. */
function writeFromBigint(to: NumericDType, out: DTypeStorage[NumericDType]): (i: number, v: bigint) => void {
  switch (to) {
    case 'int64':
      return (i, v) => ((out as BigInt64Array)[i] = v);
    case 'uint64':
      return (i, v) => ((out as BigUint64Array)[i] = BigInt.asUintN(64, v));
    case 'float64':
      return (i, v) => ((out as Float64Array)[i] = Number(v));
    case 'bool':
      return (i, v) => ((out as Uint8Array)[i] = v !== 0n ? 1 : 0);
    default: {
      const float = isFloat(to);
      const w = writeFromNumber(to, out, false);
      // Floats: correctly rounded float32 first; integers: keep the low 32 bits, then the narrower store wraps.
      return float ? (i, v) => w(i, bigintToFloat32(v)) : (i, v) => w(i, Number(BigInt.asIntN(32, v)));
    }
  }
}

/** float32 <-> float16/bfloat16 on bit patterns (fast, and exact for NaN payloads); false for other pairs. */
function castFloatBits(from: NumericDType, to: NumericDType, src: TensorData, dst: TensorData): boolean {
  if (from === 'float32' && to === 'float16') float32ToFloat16Array(src as Float32Array, dst as Uint16Array);
  else if (from === 'float32' && to === 'bfloat16') float32ToBfloat16Array(src as Float32Array, dst as Uint16Array);
  else if (from === 'float16' && to === 'float32') float16ToFloat32Array(src as Uint16Array, dst as Float32Array);
  else if (from === 'bfloat16' && to === 'float32') bfloat16ToFloat32Array(src as Uint16Array, dst as Float32Array);
  else return false;
  return true;
}

/**
 * Cast a tensor to another numeric dtype with ONNX Cast semantics as onnxruntime 1.30 computes them on x86-64
 * (see cast-scalar.ts for the exact rules on NaN, infinities and out-of-range values: floats truncate toward
 * zero and out-of-range values give the x86 "integer indefinite" pattern, then wrap; narrowing integer casts
 * wrap; int4/uint4 round half away from zero and keep the low nibble; bool is "non-zero"). float16/bfloat16 are
 * rounded half to even from float32, int64/uint64 use BigInt. NaN signs and payloads follow onnxruntime's own
 * converters (cast-nan.ts). Writes into `out` when given (its length must be
 * the storage length for the shape); otherwise allocates. Casting to the same dtype copies.
 * Throws DTYPE_UNSUPPORTED for string tensors, TENSOR_SIZE_MISMATCH for a wrong-sized `out`.
 */
export function castTensor<To extends NumericDType>(t: Tensor, to: To, out?: DTypeStorage[To]): Tensor<To> {
  const from = t.dtype;
  if (from === 'string' || (to as string) === 'string') {
    throw new LeptonError('DTYPE_UNSUPPORTED', `cannot cast ${from} to ${to}; expected numeric dtypes on both sides`, { from, to });
  }
  if (!(to in DTYPE_INFO)) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `cast target dtype is ${String(to)}; expected one of ${Object.keys(DTYPE_INFO).join(', ')}`);
  }
  const count = sizeOf(t.shape);
  const expected = storageLength(to, count);
  if (out !== undefined && out.length !== expected) {
    throw new LeptonError('TENSOR_SIZE_MISMATCH', `cast output buffer holds ${out.length} elements; expected ${expected} for ${to} [${t.shape.join(', ')}]`);
  }
  const dst = (out ?? allocate(to, count)) as DTypeStorage[To];
  const src = t.data as DTypeStorage[NumericDType];
  if (from === to) {
    (dst as { set(a: ArrayLike<unknown>): void }).set(src as ArrayLike<unknown>);
  } else if (castFloatBits(from, to, src, dst)) {
    // done: bit-level paths keep NaN signs and payloads the way onnxruntime does
  } else if (isBig(from)) {
    const read: BigReader = (i) => (src as BigInt64Array | BigUint64Array)[i]!;
    const write = writeFromBigint(to, dst);
    for (let i = 0; i < count; i++) write(i, read(i));
  } else {
    const read = numberReader(from, src);
    const write = writeFromNumber(to, dst, isFloat(from));
    for (let i = 0; i < count; i++) write(i, read(i));
  }
  if (from !== to) applyOrtNaNRules(from, to, src, dst, count);
  if ((to === 'int4' || to === 'uint4') && count % 2 === 1) {
    // The unused high nibble of an odd-length packed tensor is zero, whatever `out` held.
    const last = (dst as Uint8Array).length - 1;
    (dst as Uint8Array)[last] = (dst as Uint8Array)[last]! & 0x0f;
  }
  return { dtype: to, shape: [...t.shape], data: dst };
}
