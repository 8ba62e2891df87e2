import { afterEach, describe, expect, it } from 'vitest';
import { rng } from '../test/support/random';
import {
  bfloat16ToFloat32Array,
  float16SimdAvailable,
  float16ToFloat32Array,
  float32ToBfloat16Array,
  float32ToFloat16Array,
  setFloat16SimdEnabled,
} from './float16';
import { F16_CHUNK } from './float16-simd';

// The WebAssembly SIMD kernels against the plain loops (the reference, themselves checked against onnxruntime in
// float16.test.ts, cast.test.ts and test/ops.ort.test.ts): every output bit must agree.

afterEach(() => {
  setFloat16SimdEnabled(true);
});

const hex = (v: number, w = 4) => `0x${(v >>> 0).toString(16).padStart(w, '0')}`;

type Words = Uint16Array | Uint32Array;
const words = (a: Uint16Array | Float32Array): Words => (a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a);

/** Runs `f` with the SIMD path on and off and returns both outputs as 16- or 32-bit words. */
function bothWays(f: () => Uint16Array | Float32Array): [Words, Words] {
  setFloat16SimdEnabled(true);
  const fast = f();
  setFloat16SimdEnabled(false);
  const plain = f();
  setFloat16SimdEnabled(true);
  return [words(fast), words(plain)];
}

/** Expects the SIMD and plain outputs to agree; names the first input word where they do not. */
function expectSame(f: () => Uint16Array | Float32Array, input: Uint32Array | Uint16Array, what: string): void {
  const [fast, plain] = bothWays(f);
  expect(fast.length, what).toBe(plain.length);
  for (let i = 0; i < fast.length; i++) {
    if (fast[i] !== plain[i]) {
      throw new Error(`${what}: input ${hex(input[i]!, 8)} gives ${hex(fast[i]!)} (SIMD), ${hex(plain[i]!)} (plain)`);
    }
  }
}

/** Every exponent, both signs, with the mantissas where rounding changes: ties, ties +- 1, extremes, payloads. */
function edgeWords(): Uint32Array {
  const mants = [0, 1, 2, 0xfff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x3001, 0x400000, 0x400001, 0x7fe000, 0x7fefff, 0x7ff000, 0x7fffff];
  // Below 2^-14 the float16 step is coarser: ties sit at every power of two of the mantissa.
  for (let b = 13; b < 23; b++) mants.push(1 << b, (1 << b) + 1, (1 << b) - 1, (3 << b) & 0x7fffff, ((3 << b) + 1) & 0x7fffff);
  const out: number[] = [];
  for (const sign of [0, 0x80000000]) for (let e = 0; e < 256; e++) for (const m of mants) out.push((sign | (e << 23) | m) >>> 0);
  return Uint32Array.from(out);
}

function randomWords(seed: number, n: number): Uint32Array {
  const r = rng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(r() * 4294967296) >>> 0);
}

/** A seeded shuffle, so rare-path values (Infinity, NaN, overflow) share 8-lane turns with ordinary ones. */
function shuffled<T extends Uint32Array | Uint16Array>(a: T, seed: number): T {
  const out = a.slice() as T;
  const r = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const asF32 = (w: Uint32Array) => new Float32Array(w.buffer, w.byteOffset, w.length);
const all16 = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16 / bfloat16 WebAssembly SIMD kernels', () => {
  it('are available on this engine', () => {
    expect(float16SimdAvailable()).toBe(true);
    setFloat16SimdEnabled(false);
    expect(float16SimdAvailable()).toBe(false);
  });

  it('narrow float32 like the plain loops on every exponent, tie, overflow, subnormal, NaN and Infinity', () => {
    const w = edgeWords();
    expect(w.length).toBeGreaterThan(30000);
    expectSame(() => float32ToFloat16Array(asF32(w)), w, 'float16');
    expectSame(() => float32ToBfloat16Array(asF32(w)), w, 'bfloat16');
    const mixed = shuffled(w, 5);
    expectSame(() => float32ToFloat16Array(asF32(mixed)), mixed, 'float16 shuffled');
    expectSame(() => float32ToBfloat16Array(asF32(mixed)), mixed, 'bfloat16 shuffled');
  });

  it('narrow float32 like the plain loops on 4 million words spread over all 2^32 patterns', () => {
    // Stride 1021 (prime) from an odd start visits every exponent and sign with varied mantissas.
    const n = 1 << 22;
    const w = new Uint32Array(n);
    for (let i = 0; i < n; i++) w[i] = (i * 1021 + 7) >>> 0;
    expectSame(() => float32ToFloat16Array(asF32(w)), w, 'float16');
    expectSame(() => float32ToBfloat16Array(asF32(w)), w, 'bfloat16');
  });

  it('widen all 65,536 patterns like the plain loops (NaN payloads and signalling NaNs kept)', () => {
    expectSame(() => float16ToFloat32Array(all16), all16, 'float16 -> float32');
    expectSame(() => bfloat16ToFloat32Array(all16), all16, 'bfloat16 -> float32');
    const mixed = shuffled(all16, 9);
    expectSame(() => float16ToFloat32Array(mixed), mixed, 'float16 -> float32 shuffled');
    expectSame(() => bfloat16ToFloat32Array(mixed), mixed, 'bfloat16 -> float32 shuffled');
    const h = Uint16Array.of(0x7c01, 0xfd00, 0x7e00, 0xfc00, 0, 0x8001, 0x03ff, 0x0400, 0x7bff, 0, 0, 0, 0, 0, 0, 0);
    const nan = new Uint32Array(float16ToFloat32Array(h).buffer);
    expect(Array.from(nan.subarray(0, 9), (v) => hex(v, 8))).toEqual(
      ['0x7f802000', '0xffa00000', '0x7fc00000', '0xff800000', '0x00000000', '0xb3800000', '0x387fc000', '0x38800000', '0x477fe000'],
    );
  });

  it('handle several chunks, ragged tails and views at an offset, writing only [0, n) of the output', () => {
    const w = randomWords(11, 2 * F16_CHUNK + 13);
    expectSame(() => float32ToFloat16Array(asF32(w)), w, 'float16 multi-chunk');
    expectSame(() => float32ToBfloat16Array(asF32(w)), w, 'bfloat16 multi-chunk');
    const h = Uint16Array.from(w.subarray(0, F16_CHUNK + 21), (v) => v & 0xffff);
    expectSame(() => float16ToFloat32Array(h), h, 'float16 -> float32 multi-chunk');
    expectSame(() => bfloat16ToFloat32Array(h), h, 'bfloat16 -> float32 multi-chunk');
    for (const n of [1, 7, 8, 9, 15, 16, 17, 31, 33, 100]) {
      const view = asF32(w.subarray(3, 3 + n)); // byteOffset 12: not 16-byte aligned
      expectSame(() => float32ToFloat16Array(view), w.subarray(3), `float16 n=${n}`);
      const out = new Uint16Array(n + 5).fill(0xabcd);
      const got = float32ToFloat16Array(view, out);
      expect(Array.from(got.subarray(n)), `n=${n}`).toEqual([0xabcd, 0xabcd, 0xabcd, 0xabcd, 0xabcd]);
      const h16 = h.subarray(5, 5 + n);
      const back = new Float32Array(n + 3).fill(7);
      expectSame(() => bfloat16ToFloat32Array(h16, new Float32Array(n)), h16, `bfloat16 -> float32 n=${n}`);
      expect(Array.from(float16ToFloat32Array(h16, back).subarray(n))).toEqual([7, 7, 7]);
    }
  });

  it('take the rare path in whichever of a turn\'s 8 unrolled groups holds the special value, and only there', () => {
    // 64 lanes per loop turn, 8 groups of 8 with their own Infinity/NaN branch: a special value at every lane
    // position of a 3-turn array, among ordinary and subnormal values, on all four kernels.
    const n = 3 * 64 + 5;
    const specials32 = [0x7f800000, 0xff800000, 0x7fc00001, 0xffbfffff, 0x477ff000, 0x00000001];
    const specials16 = [0x7c00, 0xfc00, 0x7e01, 0xfd55, 0x7bff, 0x0001];
    for (let pos = 0; pos < 64; pos++) {
      const w = randomWords(100 + pos, n).map((v) => (v & 0x807fffff) | 0x3f000000); // |x| in [0.5, 1): no specials
      const h = Uint16Array.from(w, (v) => (v & 0x83ff) | 0x3800);
      for (const [k, sp] of specials32.entries()) w[pos + 64 * (k % 3)] = sp;
      for (const [k, sp] of specials16.entries()) h[pos + 64 * (k % 3)] = sp;
      expectSame(() => float32ToFloat16Array(asF32(w)), w, `float16 special at lane ${pos}`);
      expectSame(() => float32ToBfloat16Array(asF32(w)), w, `bfloat16 special at lane ${pos}`);
      expectSame(() => float16ToFloat32Array(h), h, `float16 -> float32 special at lane ${pos}`);
      expectSame(() => bfloat16ToFloat32Array(h), h, `bfloat16 -> float32 special at lane ${pos}`);
    }
  });

  it('keep signed zeros, ties to even and the overflow threshold on the SIMD path', () => {
    const x = Float32Array.of(-0, 0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519.99, 65520, -65520);
    const y = Float32Array.of(1.5 * 2 ** -24, 2.5 * 2 ** -24, 2 ** -25, 1023.75 * 2 ** -24, Infinity, -Infinity, NaN, 0.1);
    const xy = new Float32Array([...x, ...y]);
    expect(xy.length).toBeGreaterThanOrEqual(16); // long enough to take the SIMD path
    expect(Array.from(float32ToFloat16Array(xy), (v) => hex(v))).toEqual([
      ...['0x8000', '0x0000', '0x3c00', '0x3c02', '0x7bff', '0x7bff', '0x7c00', '0xfc00'],
      ...['0x0002', '0x0002', '0x0000', '0x0400', '0x7c00', '0xfc00', '0x7e00', '0x2e66'],
    ]);
  });
});
