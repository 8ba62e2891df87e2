/**
 * Element conversions behind castTensor, matching what onnxruntime 1.30 (x86-64 CPU provider) computes for
 * ONNX Cast, measured with onnxruntime-node. Where C++ leaves a float -> integer conversion undefined (NaN,
 * ±Infinity, out of range) onnxruntime returns the x86 "integer indefinite" value, and these functions return
 * the same:
 *  - float -> int32: truncate toward zero; NaN/±Inf/outside [-2^31, 2^31) give -2^31.
 *  - float -> int8/uint8/int16/uint16: the int32 result above, wrapped to the width (300 -> int8 44, -1 -> uint8
 *    255, NaN -> 0, 1e10 -> 0).
 *  - float -> uint32: x >= 2^31 ? int32(x - 2^31) XOR 2^31 : int32(x) wrapped (-1 -> 4294967295, NaN -> 2^31,
 *    +Inf and >= 2^32 -> 0). Caveat: onnxruntime's own result for NaN/out-of-range uint32 depends on where the
 *    element sits: its scalar loop tail (the last few elements) keeps the low 32 bits of an int64 conversion
 *    instead (NaN -> 0, 1e10 -> 1410065408). We reproduce the vectorised body, which covers all but the tail.
 *  - float -> int64: truncate; NaN/±Inf/outside [-2^63, 2^63) give -2^63. uint64 mirrors uint32 with 2^63.
 *  - float -> int4/uint4: round half away from zero first (onnxruntime rounds, unlike the other integer targets), then
 *    the int32 rule, then keep the low nibble (it wraps: 300 -> uint4 12, 16 -> 0).
 *  - integer -> narrower integer (and int4/uint4): two's-complement wrap (keep the low bits).
 *  - anything -> bool: 1 when non-zero (NaN is non-zero); bool -> numbers: 0/1.
 *  - integer/float64 -> float16/bfloat16: rounded to float32 first, then to 16 bits (onnxruntime goes through
 *    float32, so float64 -> float16 can double-round); int64 -> float32 is correctly rounded.
 */

const TWO31 = 2 ** 31;
const TWO63 = 2 ** 63;
const INT64_MIN = -(2n ** 63n);

/** float -> int32 with the x86 indefinite value for NaN and out-of-range inputs. */
export function floatToInt32(x: number): number {
  return x >= -TWO31 && x < TWO31 ? Math.trunc(x) | 0 : -TWO31;
}

/** float -> uint32 as onnxruntime computes it (see the module comment). */
export function floatToUint32(x: number): number {
  return x >= TWO31 ? (floatToInt32(x - TWO31) ^ -TWO31) >>> 0 : floatToInt32(x) >>> 0;
}

/** float -> int64 with the x86 indefinite value for NaN and out-of-range inputs. */
export function floatToInt64(x: number): bigint {
  return x >= -TWO63 && x < TWO63 ? BigInt(Math.trunc(x)) : INT64_MIN;
}

/** float -> uint64 as onnxruntime computes it. */
export function floatToUint64(x: number): bigint {
  const v = x >= TWO63 ? floatToInt64(x - TWO63) ^ INT64_MIN : floatToInt64(x);
  return BigInt.asUintN(64, v);
}

/** Round half away from zero (C std::round), which onnxruntime applies before casting float to int4/uint4. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Correctly rounded (half to even) float32 value of a 64-bit integer; Number() alone would round twice. */
export function bigintToFloat32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  if (a < 2n ** 53n) return Math.fround(Number(v));
  const bits = a.toString(2).length;
  const shift = BigInt(bits - 24);
  const rem = a & ((1n << shift) - 1n);
  const halfway = 1n << (shift - 1n);
  a >>= shift;
  if (rem > halfway || (rem === halfway && (a & 1n) === 1n)) a += 1n;
  // a <= 2^24 and the scale is a power of two, so this product is exact (and rounds to float32 exactly).
  const mag = Math.fround(Number(a) * 2 ** Number(shift));
  return neg ? -mag : mag;
}

/** Low nibble of an integer as uint4 (0..15) or int4 (-8..7). */
export function nibble(v: number, signed: boolean): number {
  const n = v & 0xf;
  return signed && n >= 8 ? n - 16 : n;
}
