import { describe, expect, it } from 'vitest';
import { assertClose, compareClose, isClose } from '../src';

// The one closeness helper is itself tested, so a tolerance passed the wrong way cannot go unnoticed.
describe('assertClose', () => {
  it('uses |a - e| <= atol + rtol * |e| with both tolerances explicit', () => {
    expect(isClose(1.0001, 1, 1e-4, 0)).toBe(true);
    expect(isClose(1.0002, 1, 1e-4, 0)).toBe(false);
    expect(isClose(100.5, 100, 0, 0.005)).toBe(true);
    expect(isClose(100.6, 100, 0, 0.005)).toBe(false);
    expect(isClose(100.6, 100, 0.1, 0.005)).toBe(true);
  });

  it('rtol is relative to the expected value, not the actual one', () => {
    expect(isClose(0, 1, 0, 1)).toBe(true); // |0 - 1| <= 1 * |1|
    expect(isClose(1, 0, 0, 1)).toBe(false); // |1 - 0| > 1 * |0|
  });

  it('two NaNs are equal, exactly one NaN fails, infinities must match', () => {
    expect(isClose(NaN, NaN, 0, 0)).toBe(true);
    expect(isClose(NaN, 1, 1e9, 1e9)).toBe(false);
    expect(isClose(1, NaN, 1e9, 1e9)).toBe(false);
    expect(isClose(Infinity, Infinity, 0, 0)).toBe(true);
    expect(isClose(Infinity, -Infinity, 1e9, 1e9)).toBe(false);
    expect(isClose(Infinity, 1e38, 1e9, 1e9)).toBe(false);
  });

  it('reports the first mismatch and the failure count', () => {
    const r = compareClose([1, 2, 3, 4], [1, 2.5, 3, 5], { atol: 0.1, rtol: 0 });
    expect(r).toEqual({ ok: false, index: 1, actual: 2, expected: 2.5, failures: 2 });
    expect(() => assertClose([1, 2], [1, 2.5], { atol: 0.1, rtol: 0 }, 'logits')).toThrow(
      'logits: 1 of 2 differ beyond atol 0.1 + rtol 0; first at [1]: actual 2, expected 2.5',
    );
    expect(() => assertClose([1], [1, 2], { atol: 1, rtol: 1 })).toThrow(/length 1 differs from expected 2/);
    expect(() => assertClose([1], [1], { atol: -1, rtol: 0 })).toThrow(/both must be numbers >= 0/);
    expect(() => assertClose(Float32Array.of(NaN, 1), [NaN, 1], { atol: 0, rtol: 0 })).not.toThrow();
  });
});
