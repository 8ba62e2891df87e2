import { float32ToFloat16Array } from '@lepton/tensor-core';

/** float16's largest finite value and smallest subnormal. */
export const FP16_MAX = 65504;
export const FP16_MIN_SUBNORMAL = 2 ** -24;

export interface ClampCounts {
  /** Finite values above 65504 in magnitude, set to +-65504 instead of becoming Infinity. */
  high: number;
  /** Non-zero values below 2^-24 in magnitude, set to +-2^-24 instead of flushing to 0 (an epsilon must stay > 0). */
  low: number;
}

/**
 * float32 -> float16 bits with clamping to float16's finite range. Infinity and NaN are kept as they are: they
 * are deliberate values (masks), not overflow.
 */
export function toFloat16Clamped(x: Float32Array, clamp: boolean, counts: ClampCounts): Uint16Array {
  if (!clamp) return float32ToFloat16Array(x);
  let src: Float32Array = x;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const a = Math.abs(v);
    let c = v;
    if (a > FP16_MAX && a !== Infinity) {
      c = v > 0 ? FP16_MAX : -FP16_MAX;
      counts.high++;
    } else if (a !== 0 && a < FP16_MIN_SUBNORMAL) {
      c = v > 0 ? FP16_MIN_SUBNORMAL : -FP16_MIN_SUBNORMAL;
      counts.low++;
    } else continue;
    // Copy on the first change only: the input may be a view on the caller's model bytes.
    if (src === x) src = Float32Array.from(x);
    src[i] = c;
  }
  return float32ToFloat16Array(src);
}
