import { float16BitsToFloat32 } from '../float16';
import { invalid } from '../quant/validate';
import { detLog } from '../post/det-math';

function sameLength(a: { length: number }, b: { length: number }): void {
  if (a.length !== b.length) invalid('b', `has ${b.length} elements; expected ${a.length} like a`);
}

// Scratch for reinterpreting float32 bits without allocating per call.
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Map float32 bits to an integer line where adjacent floats differ by 1 (-0 and +0 both map to 0). */
function orderedF32(x: number): number {
  F32[0] = x;
  const u = U32[0]!;
  return u & 0x80000000 ? -(u & 0x7fffffff) : u;
}

/** Distance in float32 units in the last place (NaN vs NaN: 0; NaN vs number: Infinity). */
export function ulpDistanceF32(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  return Math.abs(orderedF32(a) - orderedF32(b));
}

/** Distance in float16 ulps between two float16 bit patterns. */
export function ulpDistanceF16(a: number, b: number): number {
  const an = float16BitsToFloat32(a) !== float16BitsToFloat32(a);
  const bn = float16BitsToFloat32(b) !== float16BitsToFloat32(b);
  if (an || bn) return an && bn ? 0 : Infinity;
  const oa = a & 0x8000 ? -(a & 0x7fff) : a;
  const ob = b & 0x8000 ? -(b & 0x7fff) : b;
  return Math.abs(oa - ob);
}

export interface ParityReport {
  count: number;
  maxAbs: number;
  /** max |a - b| / |b| over elements with b != 0. */
  maxRel: number;
  /** Largest float32 ulp distance. */
  maxUlp: number;
  cosine: number;
  /** 10 log10(sum b^2 / sum (a - b)^2): signal (b, the reference) to quantization noise, in dB; Infinity if equal. */
  sqnrDb: number;
  /** Positions where exactly one side is NaN, or infinities differ. */
  nonFiniteMismatches: number;
}

/** Compare a candidate `a` with a reference `b` (e.g. a quantized model's output against float32). */
export function parity(a: Float32Array, b: Float32Array): ParityReport {
  sameLength(a, b);
  let maxAbs = 0;
  let maxRel = 0;
  let maxUlp = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  let noise = 0;
  let bad = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (x !== x && y !== y))) bad++;
      continue;
    }
    const d = Math.abs(x - y);
    if (d > maxAbs) maxAbs = d;
    if (y !== 0 && d / Math.abs(y) > maxRel) maxRel = d / Math.abs(y);
    const u = ulpDistanceF32(x, y);
    if (u > maxUlp) maxUlp = u;
    dot += x * y;
    na += x * x;
    nb += y * y;
    noise += d * d;
  }
  const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
  const sqnrDb = noise === 0 ? Infinity : (10 * detLog(nb / noise)) / Math.LN10;
  return { count: a.length, maxAbs, maxRel, maxUlp, cosine, sqnrDb, nonFiniteMismatches: bad };
}

/** Largest float16 ulp distance between two float16 bit arrays. */
export function maxUlpF16(a: Uint16Array, b: Uint16Array): number {
  sameLength(a, b);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, ulpDistanceF16(a[i]!, b[i]!));
  return m;
}

export interface ArgmaxAgreement {
  rows: number;
  agree: number;
  disagree: number;
  /** Disagreements where the reference's top two differ by at most `tieTolerance`: a near tie, not a bug. */
  nearTies: number;
  /** Rows that disagree and are not near ties. */
  hardDisagreements: number[];
}

/**
 * Row-wise argmax agreement between candidate and reference scores of shape [rows, classes]. A disagreement is a
 * near tie when the reference scores of the two chosen classes differ by no more than tieTolerance.
 */
export function argmaxAgreement(a: Float32Array, b: Float32Array, classes: number, tieTolerance = 1e-6): ArgmaxAgreement {
  sameLength(a, b);
  if (!Number.isInteger(classes) || classes < 1 || a.length % classes !== 0) {
    invalid('classes', `is ${classes}; expected a positive divisor of ${a.length}`);
  }
  const rows = a.length / classes;
  let agree = 0;
  let nearTies = 0;
  const hard: number[] = [];
  for (let r = 0; r < rows; r++) {
    const ia = rowArgmax(a, r * classes, classes);
    const ib = rowArgmax(b, r * classes, classes);
    if (ia === ib) agree++;
    else if (Math.abs(b[r * classes + ia]! - b[r * classes + ib]!) <= tieTolerance) nearTies++;
    else hard.push(r);
  }
  return { rows, agree, disagree: rows - agree, nearTies, hardDisagreements: hard };
}

function rowArgmax(x: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[start + i]! > x[start + best]!) best = i;
  return best;
}
