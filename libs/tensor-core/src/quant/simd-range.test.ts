import { afterEach, describe, expect, it } from 'vitest';
import { firstMismatch, rng } from '../../test/support/random';
import { dynamicQuantizeLinear } from './dynamic-quantize';
import { quantizeLinear } from './quantize-linear';
import { SIMD_CHUNK, rangeSimd, setSimdEnabled, simdAvailable } from './simd-quantize';

// DynamicQuantizeLinear's WebAssembly SIMD path (the range kernel, then the quantize kernel run last chunk first)
// against the plain loops, its reference (itself checked against onnxruntime in test/quant.ort.test.ts): the
// range, scale, zero point and every output byte must agree.

afterEach(() => {
  setSimdEnabled(true);
});

/** The plain loop's range: NaN skipped, widened to include 0. */
function plainRange(x: Float32Array): [number, number] {
  let min = 0;
  let max = 0;
  for (const v of x) {
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return [min, max];
}

/** Spread float32 values: mixed signs and magnitudes from 2^-30 to 2^30. */
function spread(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * 2 ** (60 * r() - 30));
}

function uniform(seed: number, n: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function sprinkle(x: Float32Array, seed: number, every: number, v: number): Float32Array {
  const r = rng(seed);
  for (let i = Math.floor(r() * every); i < x.length; i += 1 + Math.floor(r() * every)) x[i] = v;
  return x;
}

const LENGTHS = [64, 65, 67, 79, 80, 127, 1000, 4099, SIMD_CHUNK - 1, SIMD_CHUNK, SIMD_CHUNK + 1, SIMD_CHUNK + 17, 2 * SIMD_CHUNK + 5, 200_003];

function inputs(): [string, Float32Array][] {
  const list: [string, Float32Array][] = [];
  LENGTHS.forEach((n, i) => {
    list.push([`mixed n=${n}`, uniform(i, n, -3, 7)]);
    list.push([`spread n=${n}`, spread(100 + i, n)]);
    list.push([`all negative n=${n}`, uniform(200 + i, n, -9, -1)]);
    list.push([`all positive n=${n}`, uniform(300 + i, n, 2, 5)]);
    list.push([`NaN sprinkled n=${n}`, sprinkle(uniform(400 + i, n, -2, 3), i, 9, NaN)]);
    list.push([`+Inf n=${n}`, sprinkle(uniform(500 + i, n, -2, 3), i, 5000, Infinity)]);
    list.push([`-Inf n=${n}`, sprinkle(uniform(600 + i, n, -2, 3), i, 5000, -Infinity)]);
    list.push([`all equal n=${n}`, new Float32Array(n).fill(-4.5)]);
    list.push([`all equal positive n=${n}`, new Float32Array(n).fill(3.25)]);
  });
  const n = 70_003;
  const both = uniform(7, n, -1, 1);
  both[3] = Infinity;
  both[n - 2] = -Infinity;
  list.push(['+Inf and -Inf', both]);
  list.push(['all NaN', new Float32Array(300).fill(NaN)]);
  list.push(['NaN and negatives only', sprinkle(uniform(8, 1001, -5, -4), 3, 2, NaN)]);
  list.push(['zeros', new Float32Array(1000)]);
  list.push(['negative zeros', new Float32Array(1000).fill(-0)]);
  list.push(['negative zeros and positives', sprinkle(new Float32Array(999).fill(-0), 4, 50, 2.5)]);
  list.push(['subnormals', uniform(9, 5000, -1e-40, 1e-40)]);
  list.push(['tiny span', uniform(10, 4000, -1e-30, 1e-30)]);
  const extremes = [3.4028234663852886e38, -3.4028234663852886e38, 0];
  list.push(['float32 extremes', Float32Array.from({ length: 777 }, (_, i) => extremes[i % 3]!)]);
  // The extremes in the last lanes: in the zero-padded tail of the last chunk and just before it.
  for (const at of [n - 1, n - 3, n - 16, SIMD_CHUNK - 1, SIMD_CHUNK, 0]) {
    const x = uniform(11, n, -1, 1);
    x[at] = -1000;
    x[(at + 5) % n] = 2000;
    list.push([`extremes at ${at} and ${(at + 5) % n}`, x]);
  }
  return list;
}

describe('SIMD range kernel', () => {
  it('is available on this engine (Node 20 / V8)', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('gives the plain range on every input, tiny arrays included', () => {
    const cases = inputs();
    for (let n = 0; n <= 70; n++) {
      cases.push([`random n=${n}`, spread(1000 + n, n)]);
      cases.push([`NaN n=${n}`, sprinkle(spread(2000 + n, n), n, 3, NaN)]);
      cases.push([`negative n=${n}`, uniform(3000 + n, n, -8, -0.5)]);
    }
    for (const [name, x] of cases) {
      const r = rangeSimd(x)!;
      const [min, max] = plainRange(x);
      // == rather than Object.is: the sign of a zero bound may differ, which no result can see (tested below).
      expect(r.min === min && r.max === max, `${name}: simd [${r.min}, ${r.max}] plain [${min}, ${max}]`).toBe(true);
    }
  });

  it('returns null when the SIMD path is off', () => {
    setSimdEnabled(false);
    expect(rangeSimd(new Float32Array(100))).toBeNull();
  });
});

describe('dynamicQuantizeLinear: SIMD path and plain loops agree bit for bit', () => {
  it('on every input', () => {
    for (const [name, x] of inputs()) {
      setSimdEnabled(true);
      const fast = dynamicQuantizeLinear(x);
      setSimdEnabled(false);
      const plain = dynamicQuantizeLinear(x);
      expect(Object.is(fast.scale, plain.scale), `${name}: scale ${fast.scale} vs ${plain.scale}`).toBe(true);
      expect(fast.zeroPoint, `${name}: zero point`).toBe(plain.zeroPoint);
      const bad = firstMismatch(fast.y, plain.y);
      expect(bad, `${name}: first mismatch at ${bad}: simd=${fast.y[bad]} plain=${plain.y[bad]}`).toBe(-1);
    }
  });

  it('into a reused output buffer with stale bytes, and a view at an offset into a larger buffer', () => {
    const big = uniform(12, 3 * SIMD_CHUNK, -6, 2);
    const x = big.subarray(1001, 1001 + 2 * SIMD_CHUNK + 9);
    const out = new Uint8Array(x.length).fill(0xa5);
    const fast = dynamicQuantizeLinear(x, out);
    expect(fast.y).toBe(out);
    setSimdEnabled(false);
    const plain = dynamicQuantizeLinear(x);
    expect(firstMismatch(out, plain.y)).toBe(-1);
    expect(Object.is(fast.scale, plain.scale)).toBe(true);
  });

  it('leaves the quantize kernel right for the next caller', () => {
    const x = uniform(13, 5000, -4, 4);
    const before = quantizeLinear(x, [x.length], { dtype: 'uint8', scale: 0.05, zeroPoint: 100 });
    dynamicQuantizeLinear(uniform(14, SIMD_CHUNK + 100, -1, 1));
    const after = quantizeLinear(x, [x.length], { dtype: 'uint8', scale: 0.05, zeroPoint: 100 });
    expect(firstMismatch(before, after)).toBe(-1);
    // And a different input of the same length right after: nothing of the previous one is reused.
    const a = dynamicQuantizeLinear(uniform(15, 300, -1, 1));
    const b = dynamicQuantizeLinear(uniform(16, 300, -50, 9));
    setSimdEnabled(false);
    expect(firstMismatch(b.y, dynamicQuantizeLinear(uniform(16, 300, -50, 9)).y)).toBe(-1);
    expect(firstMismatch(a.y, dynamicQuantizeLinear(uniform(15, 300, -1, 1)).y)).toBe(-1);
  });
});

describe('8-bit quantize kernel: rounding by the 1.5 * 2^23 add agrees with the plain loop', () => {
  it('on every half-integer, its float32 neighbours and the saturation bounds, for int8 and uint8 zero points', () => {
    const word = new Uint32Array(1);
    const f32 = new Float32Array(word.buffer);
    const values: number[] = [];
    for (let k = -300; k <= 300; k++) {
      f32[0] = k + 0.5;
      const tie = word[0]!;
      for (const d of [-2, -1, 0, 1, 2]) {
        word[0] = tie + d;
        values.push(f32[0]!);
      }
      values.push(k, -0, NaN, Infinity, -Infinity);
    }
    const x = Float32Array.from(values);
    for (const [dtype, zps] of [
      ['int8', [-128, -1, 0, 3, 127]],
      ['uint8', [0, 1, 128, 254, 255]],
    ] as const) {
      for (const zeroPoint of zps) {
        for (const scale of [1, 0.5, 2]) {
          setSimdEnabled(true);
          const fast = quantizeLinear(x, [x.length], { dtype, scale, zeroPoint });
          setSimdEnabled(false);
          const plain = quantizeLinear(x, [x.length], { dtype, scale, zeroPoint });
          const bad = firstMismatch(fast, plain);
          expect(bad, `${dtype} zp ${zeroPoint} scale ${scale}: x=${x[bad]} simd=${fast[bad]} plain=${plain[bad]}`).toBe(-1);
        }
      }
    }
  });
});
