import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  QUANT_LIMITS,
  dequantizeLinear,
  logSoftmax,
  quantParamsFromRange,
  quantizeLinear,
  softmax,
  transpose,
  type QuantDType,
} from '../src';

// Property tests (fast-check, fixed seeds so a failure reproduces).
const SEED = { seed: 20261203, numRuns: 200 };
const f32 = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });

describe('quantization round trip', () => {
  for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'] as QuantDType[]) {
    it(`${dtype}: |dequantize(quantize(x)) - x| <= scale / 2 for x inside the range`, () => {
      fc.assert(
        fc.property(
          f32(-1000, 0),
          f32(0, 1000),
          fc.boolean(),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 64 }),
          (lo, hi, symmetric, ts) => {
            fc.pre(hi - lo > 1e-3);
            if (symmetric && dtype.startsWith('u')) return;
            const p = quantParamsFromRange(lo, hi, { dtype, symmetric });
            // Representable range of the integer grid: values there are never clipped.
            const rmin = (p.qmin - p.zeroPoint) * p.scale;
            const rmax = (p.qmax - p.zeroPoint) * p.scale;
            const x = Float32Array.from(ts, (t) => Math.max(lo, rmin) + t * (Math.min(hi, rmax) - Math.max(lo, rmin)));
            const spec = { dtype, scale: p.scale, zeroPoint: p.zeroPoint };
            const y = dequantizeLinear(quantizeLinear(x, [x.length], spec), [x.length], spec);
            for (let i = 0; i < x.length; i++) {
              // scale/2 plus float32 rounding of x/scale and of the product (a few ulps of the magnitude).
              const slack = p.scale / 2 + 4 * Math.abs(x[i]!) * 2 ** -23 + 1e-30;
              if (Math.abs(y[i]! - x[i]!) > slack) return false;
            }
            return true;
          },
        ),
        SEED,
      );
    });
  }

  it('quantized values always lie in the integer range (saturation), whatever x', () => {
    fc.assert(
      fc.property(fc.array(fc.float(), { maxLength: 50 }), f32(1e-6, 10), (xs, scale) => {
        const x = Float32Array.from(xs);
        const y = quantizeLinear(x, [x.length], { dtype: 'int8', scale, zeroPoint: 3 });
        return Array.from(y).every((v) => v >= QUANT_LIMITS.int8[0] && v <= QUANT_LIMITS.int8[1]);
      }),
      SEED,
    );
  });
});

describe('transpose', () => {
  it('transposing by perm then by its inverse gives back x', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 }), fc.integer(), (shape, seed) => {
        const rank = shape.length;
        const perm = Array.from({ length: rank }, (_, i) => i);
        let s = seed >>> 0;
        for (let i = rank - 1; i > 0; i--) {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          const j = s % (i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const inv = new Array<number>(rank);
        perm.forEach((p, i) => (inv[p] = i));
        const n = shape.reduce((a, b) => a * b, 1);
        const x = Float32Array.from({ length: n }, (_, i) => i);
        const y = transpose(x, shape, perm);
        const back = transpose(y, perm.map((p) => shape[p]!), inv);
        expect(Array.from(back)).toEqual(Array.from(x));
      }),
      SEED,
    );
  });
});

describe('softmax', () => {
  it('each row sums to 1 within 1e-6 and logSoftmax = log(softmax)', () => {
    fc.assert(
      fc.property(fc.array(f32(-80, 80), { minLength: 1, maxLength: 40 }), (xs) => {
        const x = Float32Array.from(xs);
        const y = softmax(x, [x.length]);
        const sum = y.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-6);
        const ly = logSoftmax(x, [x.length]);
        for (let i = 0; i < x.length; i++) if (y[i]! > 1e-30) expect(Math.abs(Math.exp(ly[i]!) - y[i]!)).toBeLessThanOrEqual(1e-6);
      }),
      SEED,
    );
  });

  it('is stable for huge logits (no NaN from overflow)', () => {
    const y = softmax(Float32Array.from([1e38, 3e38, -3e38]), [3]);
    expect(Array.from(y)).toEqual([0, 1, 0]);
  });
});
