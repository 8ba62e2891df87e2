import { afterEach, describe, expect, it } from 'vitest';
import { randomFloats, rng } from '../../test/support/random';
import { resize, resizeWasmAvailable, setResizeWasmEnabled, type CoordinateMode, type ResizeOptions } from './resize';
import { useResizeWasmSimd } from './resize-wasm';

// The WebAssembly linear loop against the plain one (the reference, itself checked against onnxruntime in
// test/ops.ort.test.ts): every output bit must agree, NaN included as NaN. Each case runs with the SIMD body and
// again with the scalar one (the fallback for engines without WebAssembly SIMD).

afterEach(() => {
  setResizeWasmEnabled(true);
  useResizeWasmSimd(true);
});

const COORDS: CoordinateMode[] = ['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel'];

function bothWays(x: Float32Array, shape: number[], options: ResizeOptions): [Float32Array, Float32Array] {
  setResizeWasmEnabled(true);
  const fast = resize(x, shape, options);
  setResizeWasmEnabled(false);
  const plain = resize(x, shape, options);
  setResizeWasmEnabled(true);
  return [fast, plain];
}

/** Index of the first element whose bits differ (two NaNs agree), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

function expectSame(x: Float32Array, shape: number[], options: ResizeOptions): void {
  for (const simd of [true, false]) {
    expect(useResizeWasmSimd(simd)).toBe(simd);
    const [fast, plain] = bothWays(x, shape, { ...options, mode: 'linear' });
    const what = `${simd ? 'SIMD' : 'scalar'} [${shape}] -> ${JSON.stringify(options)}`;
    expect(fast.length, what).toBe(plain.length);
    const i = firstDiff(fast, plain);
    expect(i === -1 ? 'same' : `output ${i}: wasm ${fast[i]} vs plain ${plain[i]}`, what).toBe('same');
  }
  useResizeWasmSimd(true);
}

describe('WebAssembly linear resize vs the plain loop', () => {
  it('is available on this engine', () => {
    expect(resizeWasmAvailable()).toBe(true);
    setResizeWasmEnabled(false);
    expect(resizeWasmAvailable()).toBe(false);
  });

  it('agrees bit for bit on random shapes, sizes and coordinate modes', () => {
    const r = rng(20261204);
    const dim = (max: number) => 1 + Math.floor(r() * max);
    for (let t = 0; t < 400; t++) {
      const planes = 1 + (t % 5);
      const h = dim(t % 3 === 0 ? 1 : 12);
      const w = dim(t % 7 === 0 ? 1 : 12);
      const size: [number, number] = [dim(t % 11 === 0 ? 1 : 30), dim(t % 13 === 0 ? 1 : 30)];
      const shape = t % 2 ? [planes, h, w] : [1, planes, h, w];
      const x = randomFloats(t, planes * h * w, -100, 100);
      expectSame(x, shape, { size, coordinateMode: COORDS[t % 4]! });
    }
  });

  it('agrees on 1xN, Nx1 and single-pixel inputs and outputs, up and down', () => {
    const cases: [number[], [number, number]][] = [
      [[1, 3, 1, 40], [1, 97]],
      [[1, 3, 40, 1], [97, 1]],
      [[2, 1, 1, 40], [5, 9]],
      [[2, 1, 40, 1], [9, 5]],
      [[5, 1, 1], [64, 64]],
      [[4, 64, 64], [1, 1]],
      [[3, 33, 47], [1, 30]],
      [[3, 33, 47], [30, 1]],
    ];
    for (const [shape, size] of cases) {
      const x = randomFloats(shape.length + size[0], shape.reduce((a, b) => a * b, 1), -3, 3);
      for (const coordinateMode of COORDS) expectSame(x, shape, { size, coordinateMode });
    }
  });

  it('agrees when downscaling and with fractional scales', () => {
    const x = randomFloats(7, 3 * 61 * 83, -50, 50);
    for (const coordinateMode of COORDS) {
      expectSame(x, [1, 3, 61, 83], { size: [17, 9], coordinateMode });
      expectSame(x, [1, 3, 61, 83], { scales: [0.37, 1.73], coordinateMode });
      expectSame(x, [1, 3, 61, 83], { scales: [2.5, 0.2], coordinateMode });
    }
  });

  it('agrees on planes large enough to go through in chunks of rows', () => {
    const x = randomFloats(11, 2 * 300 * 260, -10, 10);
    for (const coordinateMode of COORDS) {
      expectSame(x, [1, 2, 300, 260], { size: [611, 523], coordinateMode });
      expectSame(x, [1, 2, 300, 260], { size: [97, 250], coordinateMode });
    }
    // Rows nearly a chunk wide, and a 1 x N input stretched tall.
    const wide = randomFloats(12, 3 * 2 * 40000, -1, 1);
    expectSame(wide, [3, 2, 40000], { size: [5, 65000], coordinateMode: 'half_pixel' });
    expectSame(wide.subarray(0, 40000), [1, 40000], { size: [300, 40000], coordinateMode: 'align_corners' });
  });

  it('agrees on infinities, NaN, signed zeros and subnormals', () => {
    const x = randomFloats(13, 2 * 9 * 9, -5, 5);
    x.set([Infinity, -Infinity, NaN, -0, 0, 1e-45, -1e-40, 3.4e38, -3.4e38], 0);
    x.set([-0, -0, -0, -0], 100);
    for (const coordinateMode of COORDS) expectSame(x, [2, 9, 9], { size: [20, 15], coordinateMode });
  });

  it('gives the same result on repeated calls (cached axes) and interleaved shapes', () => {
    const x = randomFloats(17, 3 * 9 * 9, -5, 5);
    const first = resize(x, [1, 3, 9, 9], { size: [18, 18], mode: 'linear' });
    for (let i = 0; i < 10; i++) resize(x.subarray(0, 3 * 8 * 7), [1, 3, 8, 7], { size: [5 + i, 9 + i], mode: 'linear' });
    const again = resize(x, [1, 3, 9, 9], { size: [18, 18], mode: 'linear' });
    expect(firstDiff(first, again)).toBe(-1);
    setResizeWasmEnabled(false);
    expect(firstDiff(first, resize(x, [1, 3, 9, 9], { size: [18, 18], mode: 'linear' }))).toBe(-1);
  });
});
