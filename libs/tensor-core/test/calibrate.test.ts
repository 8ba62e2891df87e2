import { describe, expect, it } from 'vitest';
import {
  EntropyObserver,
  MinMaxObserver,
  MseObserver,
  PercentileObserver,
  SymmetricHistogram,
  entropyThreshold,
  quantParamsFromRange,
  quantParamsFromRanges,
  quantizeLinear,
} from '../src';
import { randomFloats, rng } from './support/random';

/** Standard normal samples (Box-Muller over the seeded generator). */
function gaussian(seed: number, n: number, sigma = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

describe('MinMaxObserver', () => {
  it('streams batches, widens to include 0 and keeps the raw extremes', () => {
    const obs = new MinMaxObserver();
    obs.observe(Float32Array.from([2, 3, 5]));
    obs.observe(Float32Array.from([4, 7.5]));
    expect(obs.range()).toEqual({ min: 0, max: 7.5, dataMin: 2, dataMax: 7.5, count: 5, skippedNonFinite: 0 });
  });

  it('skips and counts NaN and infinities', () => {
    const obs = new MinMaxObserver();
    obs.observe(Float32Array.from([Infinity, -1, NaN, -Infinity, 2]));
    expect(obs.range()).toMatchObject({ min: -1, max: 2, count: 2, skippedNonFinite: 3 });
  });

  it('a batch of only NaN gives a zero range, not NaN', () => {
    const obs = new MinMaxObserver();
    obs.observe(Float32Array.from([NaN, NaN]));
    const r = obs.range();
    expect([r.min, r.max, r.count, r.skippedNonFinite]).toEqual([0, 0, 0, 2]);
    const p = quantParamsFromRange(r.min, r.max, { dtype: 'uint8' });
    expect(p.scale).toBe(1);
  });

  it('per axis: one range per channel of NCHW data', () => {
    const obs = new MinMaxObserver({ axis: 1 });
    // [1, 2, 1, 3]: channel 0 = [1, -2, 3], channel 1 = [10, 20, NaN]
    obs.observe(Float32Array.from([1, -2, 3, 10, 20, NaN]), [1, 2, 1, 3]);
    obs.observe(Float32Array.from([-5, 0, 0, 0, 0, 30]), [1, 2, 1, 3]);
    const [c0, c1] = obs.ranges();
    expect(c0).toMatchObject({ min: -5, max: 3, count: 6, skippedNonFinite: 0 });
    expect(c1).toMatchObject({ min: 0, max: 30, count: 5, skippedNonFinite: 1 });
    expect(() => obs.range()).toThrow(/per-axis/);
    // Per-channel parameters feed straight into a per-axis QuantizeLinear.
    const p = quantParamsFromRanges(obs.ranges(), { dtype: 'int8' });
    expect(Array.from(p.scale)).toEqual([Math.fround(8 / 255), Math.fround(30 / 255)]);
    const q = quantizeLinear(Float32Array.from([3, -5, 0, 30, 15, 0]), [1, 2, 1, 3], { dtype: 'int8', ...p, axis: 1 });
    expect(Array.from(q)).toEqual([127, -128, p.zeroPoint[0], 127, 0, -128]);
    expect(() => obs.observe(new Float32Array(3), [1, 3, 1, 1])).toThrow(/3 channels/);
  });
});

describe('histogram', () => {
  it('merging bins when the range doubles is exact and independent of batching', () => {
    const x = randomFloats(1, 4000, -3, 3);
    const whole = new SymmetricHistogram(64);
    whole.add(x, 0, x.length);
    const parts = new SymmetricHistogram(64);
    // Start with a small batch so the radius has to double several times.
    parts.add(Float32Array.from([0.1]), 0, 1);
    parts.add(x, 0, x.length);
    expect(parts.total()).toBe(4001);
    expect(parts.radius).toBeGreaterThanOrEqual(3 * 0.99);
  });
});

describe('percentile, entropy and MSE observers clip outliers', () => {
  const data = gaussian(7, 20000);
  data[0] = 60; // one far outlier
  data[1] = NaN;

  it('percentile 99.9 keeps the bulk and drops the outlier', () => {
    const obs = new PercentileObserver({ percentile: 99.9 });
    obs.observe(data.subarray(0, 10000));
    obs.observe(data.subarray(10000));
    const r = obs.range();
    expect(r.skippedNonFinite).toBe(1);
    expect(r.max).toBeGreaterThan(2.5);
    expect(r.max).toBeLessThan(5);
    expect(r.min).toBeLessThan(-2.5);
    expect(r.min).toBeGreaterThan(-5);
    expect(r.dataMax).toBe(60);
  });

  it('percentile symmetric uses |x|', () => {
    const obs = new PercentileObserver({ percentile: 99.9, symmetric: true });
    obs.observe(data);
    const r = obs.range();
    expect(r.max).toBe(-r.min);
    expect(r.max).toBeGreaterThan(2.5);
    expect(r.max).toBeLessThan(5);
  });

  it('entropy picks a threshold well inside the outlier', () => {
    const obs = new EntropyObserver();
    obs.observe(data);
    const r = obs.range();
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(30);
  });

  it('MSE for 4 bits clips the outlier (its rounding noise would cost more than clipping one value)', () => {
    const obs = new MseObserver({ levels: 16 });
    obs.observe(data);
    const r = obs.range();
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(20);
  });

  it('without outliers the thresholds approach the data range', () => {
    const u = randomFloats(3, 10000, -1, 1);
    const e = new EntropyObserver();
    e.observe(u);
    expect(e.range().max).toBeGreaterThan(0.9);
    const m = new MseObserver();
    m.observe(u);
    expect(m.range().max).toBeGreaterThan(0.9);
  });

  it('entropyThreshold of a uniform histogram keeps every bin', () => {
    expect(entropyThreshold(new Float64Array(512).fill(10), 128)).toBe(512);
  });
});

describe('quantParamsFromRange', () => {
  it('asymmetric uint8 over [-1, 3]', () => {
    const p = quantParamsFromRange(-1, 3, { dtype: 'uint8' });
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64); // 0 - (-1 / (4/255)) = 63.75 -> 64
  });

  it('symmetric int8 uses [-127, 127] and zero point 0', () => {
    const p = quantParamsFromRange(-2, 1, { dtype: 'int8', symmetric: true });
    expect([p.qmin, p.qmax, p.zeroPoint]).toEqual([-127, 127, 0]);
    expect(p.scale).toBe(Math.fround(4 / 254));
  });

  it('symmetric uint8 puts the zero point at 128', () => {
    expect(quantParamsFromRange(-2, 1, { dtype: 'uint8', symmetric: true }).zeroPoint).toBe(128);
  });

  it('reduce_range uses 7 bits', () => {
    expect(quantParamsFromRange(0, 127, { dtype: 'uint8', reduceRange: true })).toMatchObject({ qmin: 0, qmax: 127, scale: 1 });
    expect(quantParamsFromRange(-64, 64, { dtype: 'int8', reduceRange: true })).toMatchObject({ qmin: -64, qmax: 64, scale: 1, zeroPoint: 0 });
    expect(() => quantParamsFromRange(0, 1, { dtype: 'int16', reduceRange: true })).toThrow(/reduced range/);
  });

  it('widens a positive range to include 0 and gives a finite scale for degenerate ranges', () => {
    expect(quantParamsFromRange(5, 10, { dtype: 'uint8' })).toMatchObject({ zeroPoint: 0, scale: Math.fround(10 / 255) });
    expect(quantParamsFromRange(0, 0, { dtype: 'int8' })).toMatchObject({ scale: 1, zeroPoint: 0 });
    expect(quantParamsFromRange(0, 0, { dtype: 'int8', symmetric: true })).toMatchObject({ scale: 1, zeroPoint: 0 });
    expect(quantParamsFromRange(-1e-40, 1e-40, { dtype: 'int4' })).toMatchObject({ scale: 1 });
  });

  it('rejects non-finite or inverted ranges naming the argument', () => {
    expect(() => quantParamsFromRange(NaN, 1, { dtype: 'uint8' })).toThrow(/min is NaN/);
    expect(() => quantParamsFromRange(0, Infinity, { dtype: 'uint8' })).toThrow(/max is Infinity/);
    expect(() => quantParamsFromRange(2, 1, { dtype: 'uint8' })).toThrow(/above max/);
  });
});
