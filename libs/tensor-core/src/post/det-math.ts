// exp and log from + - * / only. Math.exp and Math.log are implementation-defined in ECMAScript (engines may
// differ in the last bit); these give the same double on every engine, which keeps softmax, sigmoid and the
// losses byte-identical between Node, Chromium and any other runtime.

const LN2_HI = 6.93147180369123816490e-1; // low 32 bits zero, so k * LN2_HI is exact for |k| < 2^20
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;

// Scratch for building 2^n from its bits; module-level so calls allocate nothing.
const BITS = new Float64Array(1);
const WORDS = new Int32Array(BITS.buffer);
// Which Int32 holds the sign/exponent word depends on endianness; detect it once.
const HI = (() => {
  BITS[0] = 1;
  return WORDS[1] === 0x3ff00000 ? 1 : 0;
})();

/** 2^n for an integer n in [-1022, 1023]. */
function pow2(n: number): number {
  WORDS[HI] = (n + 1023) << 20;
  WORDS[1 - HI] = 0;
  return BITS[0]!;
}

/** e^x to about one double ulp. */
export function detExp(x: number): number {
  if (x !== x) return x;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Taylor series of e^r for |r| <= ln2 / 2: the truncation error is below 2^-53.
  let p = 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  if (k > 1023) return p * pow2(1023) * pow2(k - 1023);
  if (k < -1022) return p * pow2(-1022) * pow2(k + 1022);
  return p * pow2(k);
}

/** Natural logarithm to about one double ulp; log(0) = -Infinity, log(x < 0) = NaN. */
export function detLog(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return x;
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54 lifts subnormals into the normal range
    e = -54;
  }
  BITS[0] = x;
  const hi = WORDS[HI]!;
  e += (hi >>> 20) - 1023;
  WORDS[HI] = (hi & 0x000fffff) | 0x3ff00000;
  let m = BITS[0]!; // in [1, 2)
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716: the odd series converges fast.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 23;
  for (let j = 21; j >= 1; j -= 2) p = p * s2 + 1 / j;
  return e * LN2_HI + (2 * s * p + e * LN2_LO);
}
