import { float32ToFloat16Array } from '@lepton/tensor-core';
import { OnnxType, type TensorProto } from '../proto/types';
import { elementCount, forEachFloat32Block, readFloat32 } from '../tensors';

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
 * A float32 (or float16) tensor's values as float16 bits, clamped to float16's finite range when `clamp` is set.
 * Infinity and NaN are kept as they are: they are deliberate values (masks), not overflow. Works block by block
 * through a small scratch buffer: the input bytes are never written and never copied whole.
 */
export function tensorToFloat16(t: TensorProto, clamp: boolean, counts: ClampCounts): Uint16Array {
  const out = new Uint16Array(elementCount(t));
  const block = 1 << 14;
  const scratch = new Float32Array(block);
  const convert = (values: Float32Array, start: number): void => {
    const src = scratch.subarray(0, values.length);
    src.set(values);
    if (clamp) clampBlock(src, counts);
    float32ToFloat16Array(src, out.subarray(start, start + values.length));
  };
  if (t.dataType === OnnxType.FLOAT) forEachFloat32Block(t, block, convert);
  else {
    const all = readFloat32(t);
    for (let start = 0; start < all.length; start += block) convert(all.subarray(start, start + block), start);
  }
  return out;
}

function clampBlock(src: Float32Array, counts: ClampCounts): void {
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    const a = Math.abs(v);
    if (a > FP16_MAX && a !== Infinity) {
      src[i] = v > 0 ? FP16_MAX : -FP16_MAX;
      counts.high++;
    } else if (a !== 0 && a < FP16_MIN_SUBNORMAL) {
      src[i] = v > 0 ? FP16_MIN_SUBNORMAL : -FP16_MIN_SUBNORMAL;
      counts.low++;
    }
  }
}
