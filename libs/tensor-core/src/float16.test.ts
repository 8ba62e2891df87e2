import { describe, expect, it } from 'vitest';
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

const hex = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

describe('float16', () => {
  it('matches onnxruntime-node 1.30 Cast float32 -> float16 on the edge cases', () => {
    // 2 ** -24 and 2 ** -25 are the 5.960464477539063e-8 and 2.9802322387695312e-8.
    const x = [1, -0, 65504, 65520, 2 ** -24, 2 ** -25, 1e-10, NaN, Infinity, -Infinity, 0.1];
    const expected = [0x3c00, 0x8000, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0000, 0x7e00, 0x7c00, 0xfc00, 0x2e66];
    expect(x.map(float32ToFloat16Bits).map(hex)).toEqual(expected.map(hex));
    expect(Array.from(float32ToFloat16Array(new Float32Array(x))).map(hex)).toEqual(expected.map(hex));
    expect(Array.from(float32ToFloat16Array(x)).map(hex)).toEqual(expected.map(hex));
  });

  it('round-trips all 65,536 bit patterns through float32 exactly (NaNs stay NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f32 = float16ToFloat32Array(all);
    const back = float32ToFloat16Array(f32);
    let nans = 0;
    for (let h = 0; h < 65536; h++) {
      const v = f32[h]!;
      if (!Object.is(v, Math.fround(float16BitsToFloat32(h)))) throw new Error(`float16 ${hex(h)}: bulk ${v}`);
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) nans++;
      // A NaN comes back quieted (0x0200 set) with its sign and payload.
      if (isNaN ? !Number.isNaN(v) || back[h] !== (h | 0x0200) : back[h] !== h) {
        throw new Error(`float16 ${hex(h)} -> ${v} -> ${hex(back[h]!)}`);
      }
    }
    expect(nans).toBe(2046);
  });

  it('rounds half to even at normal and subnormal midpoints', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(hex(float32ToFloat16Bits(1 + 2 ** -11))).toBe('0x3c00');
    expect(hex(float32ToFloat16Bits(1 + 3 * 2 ** -11))).toBe('0x3c02');
    expect(hex(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20))).toBe('0x3c01');
    // Subnormal midpoints: 1.5 and 2.5 steps of 2^-24.
    expect(float32ToFloat16Bits(1.5 * 2 ** -24)).toBe(2);
    expect(float32ToFloat16Bits(2.5 * 2 ** -24)).toBe(2);
    expect(float32ToFloat16Bits(-2.5 * 2 ** -24)).toBe(0x8002);
    // Largest subnormal rounds up into the smallest normal.
    expect(hex(float32ToFloat16Bits(1023.75 * 2 ** -24))).toBe('0x0400');
    // Just below the overflow threshold stays at max.
    expect(hex(float32ToFloat16Bits(65519.99))).toBe('0x7bff');
    expect(hex(float32ToFloat16Bits(-1e6))).toBe('0xfc00');
  });

  it('keeps NaN payloads when decoding in bulk, like onnxruntime-node 1.30 Cast float16 -> float32', () => {
    const f = float16ToFloat32Array(new Uint16Array([0xfe00, 0x7c01, 0xfd00]));
    expect(Array.from(new Uint32Array(f.buffer)).map((v) => v.toString(16))).toEqual(['ffc00000', '7f802000', 'ffa00000']);
  });

  it('writes into a caller buffer and rejects a short one', () => {
    const out = new Uint16Array(4);
    expect(float32ToFloat16Array(new Float32Array([2, 0.5]), out)).toBe(out);
    expect(Array.from(out)).toEqual([0x4000, 0x3800, 0, 0]);
    expect(() => float32ToFloat16Array(new Float32Array(5), out)).toThrow(/holds 4 elements; expected at least 5/);
    const back = new Float32Array(2);
    expect(float16ToFloat32Array(new Uint16Array([0x4000, 0xc000]), back)).toBe(back);
    expect(Array.from(back)).toEqual([2, -2]);
  });
});

describe('bfloat16', () => {
  it('rounds half to even, canonicalises NaN and overflows to Infinity', () => {
    expect(hex(float32ToBfloat16Bits(1))).toBe('0x3f80');
    expect(hex(float32ToBfloat16Bits(-0))).toBe('0x8000');
    expect(hex(float32ToBfloat16Bits(1 + 2 ** -8))).toBe('0x3f80'); // tie -> even
    expect(hex(float32ToBfloat16Bits(1 + 3 * 2 ** -8))).toBe('0x3f82'); // tie -> even (up)
    expect(hex(float32ToBfloat16Bits(1 + 2 ** -8 + 2 ** -20))).toBe('0x3f81');
    expect(hex(float32ToBfloat16Bits(NaN))).toBe('0x7fc0');
    expect(hex(float32ToBfloat16Bits(-NaN))).toBe('0x7fc0'); // -NaN is the same NaN as NaN in JS
    // With the sign bit set (onnxruntime-node 1.30 keeps it: f32 0xffc00000 -> bf16 0xffc0, f16 0xfe00).
    const negNaN = new Float32Array(new Uint32Array([0xffc00000, 0xff800001, 0x7f800001]).buffer);
    expect(Array.from(float32ToBfloat16Array(negNaN)).map(hex)).toEqual(['0xffc0', '0xffc0', '0x7fc0']);
    expect(Array.from(float32ToFloat16Array(negNaN)).map(hex)).toEqual(['0xfe00', '0xfe00', '0x7e00']);
    expect(hex(float32ToBfloat16Bits(3.4028234663852886e38))).toBe('0x7f80');
    expect(hex(float32ToBfloat16Bits(-Infinity))).toBe('0xff80');
    expect(hex(float32ToBfloat16Bits(0.1))).toBe('0x3dcd');
  });

  it('round-trips every non-NaN bfloat16 bit pattern exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f32 = bfloat16ToFloat32Array(all);
    const back = float32ToBfloat16Array(f32);
    for (let b = 0; b < 65536; b++) {
      if (!Object.is(f32[b], bfloat16BitsToFloat32(b))) throw new Error(`bfloat16 ${hex(b)}: bulk ${f32[b]}`);
      const isNaN = (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
      if (isNaN ? back[b] !== ((b & 0x8000) | 0x7fc0) : back[b] !== b) throw new Error(`bfloat16 ${hex(b)} -> ${hex(back[b]!)}`);
    }
  });
});
