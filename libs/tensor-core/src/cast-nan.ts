import type { NumericDType, TensorData } from './dtype';

/**
 * NaN (and a few infinity) results of ONNX Cast that onnxruntime 1.30 computes with its own scalar converters,
 * where castTensor's generic element loop goes through a JS number, which neither keeps a NaN's sign or payload
 * nor follows those converters. Measured with onnxruntime-node, every dtype pair, every float16/bfloat16 bit
 * pattern (test/cast-matrix.ort.test.ts):
 *  - float16 -> float32: a signalling NaN is quieted (bit 22 set), sign and payload kept, as F16C widening does.
 *    (float16ToFloat32Array keeps the exact bits instead, so a float16 round trip is lossless.)
 *  - float16 -> float64: that quieted float32, widened with its sign and payload.
 *  - float16 -> bfloat16: NaN becomes 0x7fc0 | sign.
 *  - float16 -> uint32: NaN, +Infinity and -Infinity give 0 (the low 32 bits of a 64-bit conversion), not 2^31.
 *  - float64 or bfloat16 -> float16: NaN becomes 0x7e00 | sign (the canonical quiet NaN).
 * Returns true when it rewrote anything for this pair (callers run it after the generic loop).
 */
export function applyOrtNaNRules(from: NumericDType, to: NumericDType, src: TensorData, dst: TensorData, count: number): boolean {
  if (from === 'float16') return fromFloat16(to, src as Uint16Array, dst, count);
  if (to !== 'float16' || (from !== 'float64' && from !== 'bfloat16')) return false;
  const out = dst as Uint16Array;
  if (from === 'bfloat16') {
    const s = src as Uint16Array;
    for (let i = 0; i < count; i++) {
      const b = s[i]!;
      if ((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0) out[i] = (b & 0x8000) | 0x7e00;
    }
    return true;
  }
  const s = src as Float64Array;
  const words = new Uint32Array(s.buffer, s.byteOffset, count * 2);
  for (let i = 0; i < count; i++) {
    if (Number.isNaN(s[i]!)) out[i] = ((words[2 * i + 1]! >>> 16) & 0x8000) | 0x7e00;
  }
  return true;
}

function fromFloat16(to: NumericDType, s: Uint16Array, dst: TensorData, count: number): boolean {
  switch (to) {
    case 'float32': {
      const d = dst as Float32Array;
      const w = new Uint32Array(d.buffer, d.byteOffset, count);
      for (let i = 0; i < count; i++) if (isNaN16(s[i]!)) w[i] = w[i]! | 0x400000;
      return true;
    }
    case 'float64': {
      const d = dst as Float64Array;
      const w = new Uint32Array(d.buffer, d.byteOffset, count * 2);
      for (let i = 0; i < count; i++) {
        const h = s[i]!;
        if (!isNaN16(h)) continue;
        const mant = 0x400000 | ((h & 0x3ff) << 13);
        w[2 * i] = (mant & 7) << 29;
        w[2 * i + 1] = (((h & 0x8000) << 16) | 0x7ff00000 | (mant >>> 3)) >>> 0;
      }
      return true;
    }
    case 'bfloat16': {
      const d = dst as Uint16Array;
      for (let i = 0; i < count; i++) if (isNaN16(s[i]!)) d[i] = (s[i]! & 0x8000) | 0x7fc0;
      return true;
    }
    case 'uint32': {
      const d = dst as Uint32Array;
      for (let i = 0; i < count; i++) if ((s[i]! & 0x7c00) === 0x7c00) d[i] = 0;
      return true;
    }
    default:
      return false;
  }
}

function isNaN16(h: number): boolean {
  return (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
}
