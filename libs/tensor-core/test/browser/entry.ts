// Runs each kernel on fixed seeded inputs and returns its output bytes. Bundled for Chromium and imported in
// Node by browser.test.ts; the two must return identical bytes. Pure ES2022, no Node or DOM APIs.
import {
  EntropyObserver,
  MinMaxObserver,
  PercentileObserver,
  argmax,
  crossEntropy,
  dequantizeLinear,
  dynamicQuantizeLinear,
  bfloat16ToFloat32Array,
  float16SimdAvailable,
  float16ToFloat32Array,
  float32ToBfloat16Array,
  float32ToFloat16Array,
  affine,
  imageToTensor,
  logSoftmax,
  nhwcToNchw,
  quantizeLinear,
  resize,
  sigmoid,
  simdAvailable,
  softmax,
  topK,
  transpose,
} from '../../src';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floats(seed: number, n: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  const out = Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  // Ties, extremes and specials in the first slots.
  out.set([0.5, -0.5, 2.5, -0, 1e-40, 3.4e38, -3.4e38, NaN].slice(0, n), 0);
  return out;
}

/** float32 words of every exponent and sign with rounding-sensitive mantissas (ties, NaN payloads). */
function edgeFloats(): Float32Array {
  const mants = [0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x400000, 0x7fe000, 0x7fffff, 0x4000, 0x6000, 0x100000];
  const w = new Uint32Array(2 * 256 * mants.length);
  let i = 0;
  for (const sign of [0, 0x80000000]) for (let e = 0; e < 256; e++) for (const m of mants) w[i++] = (sign | (e << 23) | m) >>> 0;
  return new Float32Array(w.buffer);
}

const all16 = (): Uint16Array => Uint16Array.from({ length: 65536 }, (_, i) => i);

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f64 = (...v: number[]): Uint8Array => bytes(Float64Array.from(v));

export function runKernels(): Record<string, Uint8Array> {
  const x = floats(1, 4096, -50, 50);
  const finite = floats(2, 4096, -20, 20).map((v) => (Number.isFinite(v) ? v : 0));
  const shape = [4, 8, 128];
  const scale = Float32Array.from({ length: 8 }, (_, i) => 0.05 * (i + 1));
  const zp = [0, 1, -2, 3, 0, 5, -6, 7];
  const pixels = Uint8ClampedArray.from({ length: 32 * 24 * 4 }, (_, i) => (i * 37 + (i >> 5)) & 255);
  const q8 = quantizeLinear(x, shape, { dtype: 'int8', scale, zeroPoint: zp, axis: 1 });
  const r: Record<string, Uint8Array> = {
    quantizeInt8PerAxis: bytes(q8),
    // 1 when the WebAssembly SIMD quantize kernel ran (it must, in Chromium and in Node alike).
    simd: Uint8Array.of(simdAvailable() ? 1 : 0),
    quantizeUint8: bytes(quantizeLinear(x, [4096], { dtype: 'uint8', scale: 0.37, zeroPoint: 128 })),
    quantizeInt4Blocked: bytes(quantizeLinear(x, [32, 128], { dtype: 'int4', scale: new Float32Array(32 * 4).fill(7.5), axis: 1, blockSize: 32 })),
    quantizeUint16: bytes(quantizeLinear(x, [4096], { dtype: 'uint16', scale: 0.001, zeroPoint: 32768 })),
    dequantize: bytes(dequantizeLinear(q8, shape, { dtype: 'int8', scale, zeroPoint: zp, axis: 1 })),
    dynamicQuantize: (() => {
      const d = dynamicQuantizeLinear(finite);
      return new Uint8Array([...d.y, ...f64(d.scale, d.zeroPoint)]);
    })(),
    float16: bytes(float32ToFloat16Array(x)),
    float16Back: bytes(float16ToFloat32Array(float32ToFloat16Array(x))),
    bfloat16: bytes(float32ToBfloat16Array(x)),
    // 1 when the WebAssembly SIMD float16 kernels ran; the edge words cover every exponent, sign, tie and NaN.
    float16Simd: Uint8Array.of(float16SimdAvailable() ? 1 : 0),
    float16Edges: bytes(float32ToFloat16Array(edgeFloats())),
    bfloat16Edges: bytes(float32ToBfloat16Array(edgeFloats())),
    float16All: bytes(float16ToFloat32Array(all16())),
    bfloat16All: bytes(bfloat16ToFloat32Array(all16())),
    affine: bytes(affine(finite, [4096], { c: 1.2, d: 0.5, e: 0.3 })),
    transpose: bytes(transpose(x, shape, [2, 0, 1])),
    nhwcToNchw: bytes(nhwcToNchw(x, [1, 32, 32, 4])),
    image: bytes(imageToTensor(pixels, { width: 32, height: 24, format: 'rgba', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })),
    resizeLinear: bytes(resize(finite, [1, 4, 32, 32], { size: [45, 17], mode: 'linear', coordinateMode: 'half_pixel' })),
    resizeNearest: bytes(resize(finite, [1, 4, 32, 32], { size: [45, 17], mode: 'nearest', coordinateMode: 'align_corners' })),
    softmax: bytes(softmax(finite, [32, 128])),
    logSoftmax: bytes(logSoftmax(finite, [32, 128])),
    sigmoid: bytes(sigmoid(finite)),
    argmax: bytes(argmax(finite, [32, 128], { axis: 1 })),
    topK: (() => {
      const t = topK(finite, [32, 128], 5);
      return new Uint8Array([...bytes(t.values), ...bytes(t.indices)]);
    })(),
    crossEntropy: f64(crossEntropy(finite, 128, Array.from({ length: 32 }, (_, i) => (i * 7) % 128))),
    calibration: (() => {
      const values: number[] = [];
      for (const obs of [new MinMaxObserver(), new PercentileObserver({ percentile: 99.9 }), new EntropyObserver()]) {
        obs.observe(x);
        const range = obs.range();
        values.push(range.min, range.max, range.skippedNonFinite);
      }
      return f64(...values);
    })(),
  };
  return r;
}
