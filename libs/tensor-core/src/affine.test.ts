import { describe, expect, it } from 'vitest';
import { affine, affineScalar } from './affine';
import { LeptonError } from './errors';

const f32 = (xs: number[]) => Array.from(new Float32Array(xs));

describe('affine x / c * d + e', () => {
  it('maps the field case c=1.2, d=0.5, e=0.3 in float32', () => {
    const y = affine(new Float32Array([1.2, 0, 2.4]), [3], { c: 1.2, d: 0.5, e: 0.3 });
    expect(Array.from(y)).toEqual(f32([0.8, 0.3, 1.3]));
    expect(affineScalar(1.2, 1.2, 0.5, 0.3)).toBe(Math.fround(0.8));
  });

  it('rounds every intermediate to float32', () => {
    // Found by search: float64 intermediates give 0.14441175758838654, float32 ones 0.14441177248954773.
    const x = Math.fround(15 * 0.013);
    const y = affine(new Float32Array([x]), [1], { c: 1.7, d: 0.3, e: 0.11 })[0];
    expect(y).toBe(0.14441177248954773);
    expect(Math.fround((x / 1.7) * 0.3 + 0.11)).toBe(0.14441175758838654);
  });

  it('applies per-channel vectors along axis 1 (NCHW) by default and along a negative axis', () => {
    // shape [1, 2, 2]: channel 0 = [1, 2], channel 1 = [3, 4]
    const x = new Float32Array([1, 2, 3, 4]);
    const y = affine(x, [1, 2, 2], { c: [1, 2], d: 1, e: [0, 10] });
    expect(Array.from(y)).toEqual([1, 2, 11.5, 12]);
    // NHWC-style: channels last, shape [2, 2]
    const z = affine(x, [2, 2], { c: 1, d: [2, 3], e: 0, axis: -1 });
    expect(Array.from(z)).toEqual([2, 6, 6, 12]);
  });

  it('writes in place into the given buffer', () => {
    const x = new Float32Array([2, 4]);
    expect(affine(x, [2], { c: 2, d: 1, e: 1 }, x)).toBe(x);
    expect(Array.from(x)).toEqual([2, 3]);
  });

  it('rejects parameters of the wrong length, c = 0, non-finite values and a bad axis', () => {
    const x = new Float32Array(6);
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as LeptonError;
      }
      throw new Error('expected a throw');
    };
    const e1 = err(() => affine(x, [1, 3, 2], { c: [1, 2], d: 1, e: 0 }));
    expect(e1.code).toBe('PIPELINE_INVALID');
    expect(e1.message).toBe('affine parameter c has 2 values; expected 1 or 3 (dimension of the channel axis)');
    expect(err(() => affine(x, [6], { c: 0, d: 1, e: 0 })).message).toMatch(/c\[0\] is 0; expected a finite non-zero/);
    expect(err(() => affine(x, [6], { c: 1, d: [NaN], e: 0 })).message).toMatch(/d\[0\] is NaN/);
    const e4 = err(() => affine(x, [6], { c: 1, d: 1, e: [1, 2], axis: 1 }));
    expect(e4.code).toBe('PIPELINE_INVALID');
    expect(e4.message).toMatch(/axis is 1; expected an integer in \[-1, 1\)/);
    expect(err(() => affine(x, [5], { c: 1, d: 1, e: 0 })).code).toBe('TENSOR_SIZE_MISMATCH');
  });
});
