import { LeptonError } from '../errors';
import { sizeOf } from '../tensor';

// Argument checks shared by every kernel. They run once at the public boundary so the loops behind them can
// trust their inputs; each message names the argument, the value received and the range allowed.

export function invalid(arg: string, message: string, details: Record<string, unknown> = {}): never {
  throw new LeptonError('VALIDATION_FAILED', `${arg} ${message}`, { argument: arg, ...details });
}

/** An integer in [min, max]. */
export function checkInteger(arg: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(arg, `is ${String(value)}; expected an integer in [${min}, ${max}]`, { received: value, min, max });
  }
  return value;
}

/** A finite number, optionally strictly positive. */
export function checkFinite(arg: string, value: unknown, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive && !(value > 0))) {
    invalid(arg, `is ${String(value)}; expected a finite${positive ? ' positive' : ''} number`, { received: value });
  }
  return value;
}

/**
 * A finite number that stays finite (and positive, when asked) once rounded to float32, for parameters of steps
 * that run in float32: std 1e39 is Infinity there (every output 0), std 1e-46 is 0 (every output Infinity).
 */
export function checkFloat32(arg: string, value: unknown, positive = false): number {
  const v = checkFinite(arg, value, positive);
  const f = Math.fround(v);
  if (!Number.isFinite(f) || (positive && !(f > 0))) {
    invalid(arg, `is ${v}, which is ${f} in float32 (the precision the step runs in); expected a finite${positive ? ' positive' : ''} float32`, {
      received: v,
    });
  }
  return v;
}

/** Element count of a shape (SHAPE_INVALID for a bad dim). */
export function checkShape(arg: string, shape: unknown): number {
  if (!Array.isArray(shape)) invalid(arg, `is ${typeof shape}; expected an array of non-negative integers`);
  try {
    return sizeOf(shape as number[]);
  } catch (e) {
    if (e instanceof LeptonError) throw new LeptonError(e.code, `${arg}: ${e.message}`, e.details);
    throw e;
  }
}

/** Data length must equal what the shape holds. */
export function checkLength(arg: string, data: { length: number }, expected: number, what = 'elements'): void {
  if (data.length !== expected) {
    throw new LeptonError('TENSOR_SIZE_MISMATCH', `${arg} has ${data.length} ${what}; expected ${expected}`, {
      argument: arg,
      expected,
      received: data.length,
    });
  }
}

type Ctor<T> = { new (n: number): T; readonly name: string };

/**
 * The caller's output buffer when given (it must be the right typed array and exactly the right length, so a
 * stale buffer is never silently half-written), else a fresh one.
 */
export function outputBuffer<T extends { length: number }>(arg: string, out: T | undefined, ctor: Ctor<T>, length: number): T {
  if (out === undefined) return new ctor(length);
  if (!(out instanceof ctor)) invalid(arg, `is a ${Object.prototype.toString.call(out).slice(8, -1)}; expected a ${ctor.name}`);
  checkLength(arg, out, length);
  return out;
}

/** Axis in [-rank, rank-1] made non-negative. */
export function normalizeAxis(arg: string, axis: number, rank: number): number {
  checkInteger(arg, axis, -Math.max(rank, 1), Math.max(rank - 1, 0));
  return axis < 0 ? axis + rank : axis;
}

/** Product of shape[from, to). */
export function product(shape: readonly number[], from: number, to: number): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i]!;
  return n;
}
