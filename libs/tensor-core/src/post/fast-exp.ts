// A faster exp for kernels whose outputs are float32 (softmax, sigmoid): table-driven, still only + - * / on
// fixed constants, so every engine returns the same double. Relative error is a few double ulps, far below
// float32's half ulp, so rounding the result to float32 almost always gives the correctly rounded value.

// 2^(j/32), j = 0..31, as decimal literals (correctly rounded from 50-digit arithmetic); literals parse
// identically everywhere, unlike Math.pow.
const T32 = Float64Array.from([
  1.0, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237,
  1.0905077326652577, 1.1143867425958924, 1.1387886347566916, 1.1637248587775775,
  1.189207115002721, 1.215247359980469, 1.241857812073484, 1.2690509571917332,
  1.2968395546510096, 1.3252366431597413, 1.3542555469368927, 1.383909881963832,
  1.4142135623730951, 1.4451808069770467, 1.4768261459394993, 1.5091644275934228,
  1.5422108254079407, 1.5759808451078865, 1.6104903319492543, 1.645755478153965,
  1.681792830507429, 1.718619298122478, 1.7562521603732995, 1.7947090750031072,
  1.8340080864093424, 1.8741676341103, 1.9152065613971474, 1.9571441241754002,
]);

const POW2_MIN = -1100;
// 2^m for m in [-1100, 1030], built by exact doubling and halving (subnormals and the 0/Infinity ends included).
const POW2 = (() => {
  const t = new Float64Array(1030 - POW2_MIN + 1);
  let v = 1;
  for (let m = 0; m <= 1030; m++, v *= 2) t[m - POW2_MIN] = v;
  v = 1;
  for (let m = 0; m >= POW2_MIN; m--, v /= 2) t[m - POW2_MIN] = v;
  return t;
})();

const INV_LN2_32 = 46.16624130844682; // 32 / ln 2
const LN2_32_HI = 6.93147180369123816490e-1 / 32; // trailing zero bits: k * HI is exact for |k| < 2^21
const LN2_32_LO = 1.90821492927058770002e-10 / 32;

/** e^x for kernels with float32 outputs; NaN stays NaN, overflow gives Infinity, underflow 0. */
export function expForFloat32(x: number): number {
  if (!(x < 709.78)) return x !== x ? x : Infinity;
  if (x < -745.2) return 0;
  // Adding and subtracting 1.5 * 2^52 rounds to an integer (half to even) faster than Math.round.
  const k = x * INV_LN2_32 + 6755399441055744 - 6755399441055744;
  const r = x - k * LN2_32_HI - k * LN2_32_LO; // |r| <= ln2 / 64
  const ki = k | 0;
  // Degree-5 Taylor polynomial: truncation error below 2e-15 for |r| <= 0.0109.
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
  return T32[ki & 31]! * p * POW2[(ki >> 5) - POW2_MIN]!;
}
