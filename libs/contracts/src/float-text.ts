import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from '@lepton/tensor-core';

// Readable numbers for the wire's array form. Decoding a number into float16/bfloat16 uses tensor-core's
// conversions (float32 first, as onnxruntime's Cast does), and the shortest decimal is checked against that same
// conversion, so whatever we print decodes back to the same bits.

/**
 * The shortest decimal (as a number) that reads back to the same value in a narrower float format, so 0.1f
 * prints as 0.1 rather than 0.10000000149011612. `same(candidate)` says whether a candidate reads back exactly.
 */
export function shortestDecimal(value: number, same: (candidate: number) => boolean): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let p = 1; p < 17; p++) {
    const candidate = Number(value.toPrecision(p));
    if (same(candidate)) return candidate;
  }
  return value;
}

export function shortestFloat32(value: number): number {
  return shortestDecimal(value, (c) => Math.fround(c) === value);
}

export function shortestFloat16(bits: number): number {
  return shortestDecimal(float16BitsToFloat32(bits), (c) => float32ToFloat16Bits(c) === bits);
}

export function shortestBfloat16(bits: number): number {
  return shortestDecimal(bfloat16BitsToFloat32(bits), (c) => float32ToBfloat16Bits(c) === bits);
}
