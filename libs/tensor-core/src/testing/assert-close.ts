import { LeptonError } from '../errors';

/** Tolerances for closeness: |a - e| <= atol + rtol * |e|. Both must be given, so none is ever silently 0. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface CloseReport {
  ok: boolean;
  /** First failing index, -1 when ok. */
  index: number;
  actual?: number;
  expected?: number;
  /** Number of failing elements. */
  failures: number;
}

/**
 * Element-wise closeness. Two NaNs are equal, exactly one NaN fails; infinities must match exactly (Inf - Inf
 * would otherwise pass any rtol); lengths must match.
 */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): CloseReport {
  const { atol, rtol } = tol;
  if (!(atol >= 0) || !(rtol >= 0)) {
    throw new LeptonError('VALIDATION_FAILED', `tolerance {atol: ${atol}, rtol: ${rtol}}: both must be numbers >= 0`);
  }
  if (actual.length !== expected.length) {
    return { ok: false, index: Math.min(actual.length, expected.length), failures: Math.abs(actual.length - expected.length) };
  }
  let first = -1;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (isClose(a, e, atol, rtol)) continue;
    if (first < 0) first = i;
    failures++;
  }
  return first < 0
    ? { ok: true, index: -1, failures: 0 }
    : { ok: false, index: first, actual: actual[first], expected: expected[first], failures };
}

export function isClose(a: number, e: number, atol: number, rtol: number): boolean {
  if (a !== a || e !== e) return a !== a && e !== e;
  if (a === e) return true;
  if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** Throws an Error naming the first mismatch (index, both values, the tolerance) unless all elements are close. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, label = 'values'): void {
  const r = compareClose(actual, expected, tol);
  if (r.ok) return;
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} differs from expected ${expected.length}`);
  }
  throw new Error(
    `${label}: ${r.failures} of ${actual.length} differ beyond atol ${tol.atol} + rtol ${tol.rtol}; ` +
      `first at [${r.index}]: actual ${r.actual}, expected ${r.expected}`,
  );
}
