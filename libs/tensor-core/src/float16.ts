/**
 * IEEE 754 binary16 (float16) and bfloat16 conversions on bit patterns (Node 20 has no Float16Array).
 *
 * float32 -> 16-bit rounds to nearest, ties to even, as onnxruntime 1.30's Cast does: float16 keeps subnormals,
 * overflows to ±Infinity (|x| >= 65520), keeps the sign of zero, and turns a NaN into a quiet float16 NaN with the
 * same sign and the top 10 payload bits (the canonical NaN gives 0x7e00); bfloat16 maps NaNs to 0x7fc0 / 0xffc0
 * by sign, payload dropped. Both as onnxruntime-node 1.30 computes them. 16-bit -> float32 is exact, NaN
 * payloads included in the bulk functions (a JS number cannot carry them, so the scalar decoders return plain
 * NaN). The scalar encoders take any JS number and round it to float32 first, which is what onnxruntime
 * does for float64 -> float16 too (via float32), except for NaN: a float64 NaN's payload survives here, while
 * onnxruntime's Cast gives 0x7e00 | sign; castTensor follows onnxruntime (cast-nan.ts).
 * Caveat, measured: onnxruntime keeps NaN payloads only in its vectorised (F16C) body; tensors shorter than 8 and
 * the last few elements go through a scalar path that gives 0x7e00 / 0xfe00 for every NaN. We follow the body;
 * the two agree on every NaN that arithmetic produces (the default NaN has no payload).
 * Speed: bulk conversions of SIMD_MIN or more elements run the WebAssembly SIMD kernels of float16-simd.ts
 * (bit-identical; tests hold them to the plain loops here, which stay as reference and fallback).
 */

import { narrowSimd, widenSimd } from './float16-simd';

export { float16SimdAvailable, setFloat16SimdEnabled } from './float16-simd';

/** Below this many elements the plain loops beat a WebAssembly call plus its two copies. */
const SIMD_MIN = 16;

// One shared scratch word: JS is single-threaded per isolate and no function here re-enters another.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float16 bits of a float32 bit pattern (as an int32 or a uint32). */
function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const abs = bits & 0x7fffffff;
  // NaN: quieted, keeping the sign and the top payload bits (what onnxruntime's F16C conversion does).
  if (abs > 0x7f800000) return sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  // 0x477ff000 is 65520, the midpoint between 65504 (max float16) and 65536: it and everything above round up.
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs < 0x38800000) {
    // Below 2^-14 the result is subnormal: an integer count of 2^-24 steps, rounded half to even.
    if (abs <= 0x33000000) return sign; // <= 2^-25 (ties to the even 0)
    const exp = abs >>> 23;
    const mant = (abs & 0x7fffff) | 0x800000;
    const shift = 126 - exp; // value = mant * 2^(exp-150), steps = mant >> (150-24-exp)
    const q = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    const rounded = rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
    return sign | rounded;
  }
  let h = (((abs >>> 23) - 112) << 10) | ((abs >>> 13) & 0x3ff);
  const rem = abs & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent.
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** bfloat16 bits of a float32 bit pattern (as an int32 or a uint32). */
function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) & 0x8000) | 0x7fc0;
  // Adding 0x7fff plus the lowest kept bit rounds half to even; overflow lands on the Infinity pattern.
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float16 bits for `x` (rounded to float32 first), round half to even. */
export function float32ToFloat16Bits(x: number): number {
  scratchF32[0] = x;
  return f16FromF32Bits(scratchU32[0]!);
}

/** The exact value of float16 bits as a number (NaN for every NaN pattern). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** bfloat16 bits for `x` (rounded to float32 first), round half to even. */
export function float32ToBfloat16Bits(x: number): number {
  scratchF32[0] = x;
  return bf16FromF32Bits(scratchU32[0]!);
}

/** The exact value of bfloat16 bits as a number. */
export function bfloat16BitsToFloat32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0]!;
}

function checkOut<T extends { length: number }>(out: T | undefined, n: number, make: (n: number) => T, what: string): T {
  if (out === undefined) return make(n);
  if (out.length < n) {
    throw new RangeError(`${what}: output buffer holds ${out.length} elements; expected at least ${n}`);
  }
  return out;
}

/**
 * Bit patterns of `src` viewed as (signed) float32 words, without copying when it already is a Float32Array.
 * Signed, because V8 keeps int32 lanes as integers but turns uint32 ones above 2^31 (every negative float) into
 * doubles, halving the plain loops' speed.
 */
function float32Words(src: ArrayLike<number>): Int32Array | undefined {
  return src instanceof Float32Array ? new Int32Array(src.buffer, src.byteOffset, src.length) : undefined;
}

/** float32 (or any numbers) -> float16 bit patterns, into `out` when given (it must be long enough). */
export function float32ToFloat16Array(src: ArrayLike<number>, out?: Uint16Array): Uint16Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Uint16Array(k), 'float32ToFloat16Array');
  if (n >= SIMD_MIN && src instanceof Float32Array && narrowSimd(src, dst, n, false)) return dst;
  const words = float32Words(src);
  if (words) for (let i = 0; i < n; i++) dst[i] = f16FromF32Bits(words[i]!);
  else for (let i = 0; i < n; i++) dst[i] = float32ToFloat16Bits(src[i]!);
  return dst;
}

let f16Table: Int32Array | undefined;

/**
 * float32 bit patterns of all 65,536 float16 values, built on first use (256 KiB); NaN payloads shift up. Int32
 * words (not float32 values, which could quiet a signalling NaN on the way through a JS number, nor uint32,
 * which V8 handles as doubles above 2^31) keep the copy loop on integers.
 */
function float16Table(): Int32Array {
  if (!f16Table) {
    f16Table = new Int32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      f16Table[h] = nan ? ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13) : float32Bits(float16BitsToFloat32(h));
    }
  }
  return f16Table;
}

function float32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** float16 bit patterns -> float32 (bit-exact, via the integer view), into `out` when given. */
export function float16ToFloat32Array(src: Uint16Array, out?: Float32Array): Float32Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Float32Array(k), 'float16ToFloat32Array');
  if (n >= SIMD_MIN && widenSimd(src, dst, n, false)) return dst;
  const words = new Int32Array(dst.buffer, dst.byteOffset, n);
  const table = float16Table();
  for (let i = 0; i < n; i++) words[i] = table[src[i]!]!;
  return dst;
}

/** float32 (or any numbers) -> bfloat16 bit patterns, into `out` when given. */
export function float32ToBfloat16Array(src: ArrayLike<number>, out?: Uint16Array): Uint16Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Uint16Array(k), 'float32ToBfloat16Array');
  if (n >= SIMD_MIN && src instanceof Float32Array && narrowSimd(src, dst, n, true)) return dst;
  const words = float32Words(src);
  if (words) for (let i = 0; i < n; i++) dst[i] = bf16FromF32Bits(words[i]!);
  else for (let i = 0; i < n; i++) dst[i] = float32ToBfloat16Bits(src[i]!);
  return dst;
}

/** bfloat16 bit patterns -> float32, into `out` when given. */
export function bfloat16ToFloat32Array(src: Uint16Array, out?: Float32Array): Float32Array {
  const n = src.length;
  const dst = checkOut(out, n, (k) => new Float32Array(k), 'bfloat16ToFloat32Array');
  if (n >= SIMD_MIN && widenSimd(src, dst, n, true)) return dst;
  const words = new Int32Array(dst.buffer, dst.byteOffset, n);
  for (let i = 0; i < n; i++) words[i] = src[i]! << 16;
  return dst;
}
