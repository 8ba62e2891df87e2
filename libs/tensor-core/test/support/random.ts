// Seeded generators so reference tests draw the same inputs on every run and platform.

/** mulberry32: a tiny 32-bit PRNG; returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** float32 values uniform in [lo, hi), with a share of exact ties k + 0.5 (scaled) mixed in. */
export function randomFloats(seed: number, n: number, lo = -10, hi = 10): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function randomInts(seed: number, n: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

export function randomShape(seed: number, rank: number, maxDim = 5): number[] {
  const r = rng(seed);
  return Array.from({ length: rank }, () => 1 + Math.floor(r() * maxDim));
}

/** First index where two arrays differ bitwise (NaN payloads compared as numbers), or -1. */
export function firstMismatch(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!(Object.is(x, y) || (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y)))) return i;
  }
  return -1;
}
