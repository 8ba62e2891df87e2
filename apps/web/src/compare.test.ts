import { describe, expect, it } from 'vitest';
import { compareProbabilities, msPerChunk } from './compare';

describe('compareProbabilities', () => {
  it('finds the largest absolute difference and where it is', () => {
    const browser = new Float32Array([0.1, 0.5, 0.9]);
    const server = [0.1, 0.25, 0.95];
    const c = compareProbabilities(browser, server);
    expect(c.sameChunkCount).toBe(true);
    expect(c.maxAbsDiffAt).toBe(1);
    expect(c.maxAbsDiff).toBeCloseTo(0.25, 7);
  });

  it('gives 0 for identical float32 values and null when chunk counts differ', () => {
    const p = new Float32Array([0.2, 0.7]);
    expect(compareProbabilities(p, Array.from(p))).toEqual({ maxAbsDiff: 0, maxAbsDiffAt: 0, sameChunkCount: true });
    expect(compareProbabilities(p, [0.2])).toEqual({ maxAbsDiff: null, maxAbsDiffAt: -1, sameChunkCount: false });
    expect(compareProbabilities([], [])).toEqual({ maxAbsDiff: 0, maxAbsDiffAt: -1, sameChunkCount: true });
  });

  it('reports a NaN on one side as a NaN difference, not as agreement', () => {
    const c = compareProbabilities([0.1, Number.NaN, 0.3], [0.1, 0.2, 0.3]);
    expect(c.maxAbsDiff).toBeNaN();
    expect(c.maxAbsDiffAt).toBe(1);
  });
});

describe('msPerChunk', () => {
  it('divides, and has no value for zero chunks', () => {
    expect(msPerChunk(10, 4)).toBe(2.5);
    expect(msPerChunk(10, 0)).toBeNull();
  });
});
