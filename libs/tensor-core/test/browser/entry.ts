// Runs each kernel on fixed seeded inputs and returns its output bytes. Bundled for Chromium and imported in
// Node by browser.test.ts; the two must return identical bytes. Pure ES2022, no Node or DOM APIs.
import {
  EntropyObserver,
  MinMaxObserver,
  MseObserver,
  PercentileObserver,
  accuracy,
  argmax,
  argmaxAgreement,
  binaryCrossEntropy,
  castTensor,
  centerCrop,
  createTensor,
  mae,
  mse,
  nchwToNhwc,
  nllLoss,
  parity,
  quantParamsFromRanges,
  topKAccuracy,
  type NumericDType,
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
  resizeWasmAvailable,
  setResizeWasmEnabled,
  sigmoid,
  simdAvailable,
  softmax,
  topK,
  transpose,
} from '../../src';
import { useResizeWasmSimd } from '../../src/transform/resize-wasm';

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

const CAST_DTYPES: NumericDType[] = [
  'float32', 'float64', 'float16', 'bfloat16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'int4', 'uint4',
];

/** Every source dtype (values made from the edge floats) cast to every dtype, concatenated. */
function castMatrix(): Uint8Array {
  const parts: Uint8Array[] = [];
  const edges = edgeFloats();
  const f16 = all16();
  for (const from of CAST_DTYPES) {
    const src = from === 'float16' || from === 'bfloat16' ? createTensor(from, [f16.length], f16) : castTensor(createTensor('float32', [edges.length], edges), from);
    for (const to of CAST_DTYPES) parts.push(bytes(castTensor(src, to).data as ArrayBufferView));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

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
    // The SIMD range kernel skipping NaN, on a length that leaves a tail of 13 after the 16-lane body.
    dynamicQuantizeNaN: (() => {
      const v = finite.slice(0, 4093);
      for (let i = 3; i < v.length; i += 97) v[i] = NaN;
      const d = dynamicQuantizeLinear(v);
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
    // [1, 1] when the WebAssembly linear resize loop ran with its SIMD body (the resizeLinear* cases use it).
    resizeWasm: Uint8Array.of(resizeWasmAvailable() ? 1 : 0, useResizeWasmSimd(true) ? 1 : 0),
    resizeLinearDown: bytes(resize(finite, [1, 4, 32, 32], { size: [7, 5], mode: 'linear', coordinateMode: 'pytorch_half_pixel' })),
    // Planes too large for one call: chunks of output rows with only the input rows they read.
    resizeLinearChunked: bytes(
      resize(floats(3, 2 * 200 * 190, -20, 20).map((v) => (Number.isFinite(v) ? v : 0)), [1, 2, 200, 190], {
        size: [301, 250],
        mode: 'linear',
        coordinateMode: 'align_corners',
      }),
    ),
    // The scalar WebAssembly body (for engines without SIMD) on the resizeLinear case.
    resizeLinearScalar: (() => {
      useResizeWasmSimd(false);
      try {
        return bytes(resize(finite, [1, 4, 32, 32], { size: [45, 17], mode: 'linear', coordinateMode: 'half_pixel' }));
      } finally {
        useResizeWasmSimd(true);
      }
    })(),
    // The plain loop (the WebAssembly one's reference) on the resizeLinear case: the same bytes on both engines.
    resizeLinearPlain: (() => {
      const was = setResizeWasmEnabled(false);
      try {
        return bytes(resize(finite, [1, 4, 32, 32], { size: [45, 17], mode: 'linear', coordinateMode: 'half_pixel' }));
      } finally {
        setResizeWasmEnabled(was);
      }
    })(),
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
    castMatrix: castMatrix(),
    dequantizeInt4Blocked: bytes(
      dequantizeLinear(quantizeLinear(x, [32, 128], { dtype: 'int4', scale: new Float32Array(32 * 4).fill(0.75), axis: 1, blockSize: 32 }), [32, 128], {
        dtype: 'int4',
        scale: new Float32Array(32 * 4).fill(0.75),
        axis: 1,
        blockSize: 32,
      }),
    ),
    nchwToNhwc: bytes(nchwToNhwc(x, [1, 4, 32, 32])),
    centerCrop: bytes(centerCrop(finite, [1, 4, 32, 32], [20, 11])),
    // Field case rgba-to-planar-normalized, its exact 2x2 input.
    imageFieldCase: bytes(
      imageToTensor(Uint8ClampedArray.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 128, 128, 128, 255]), {
        width: 2,
        height: 2,
        format: 'rgba',
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      }),
    ),
    // Its neighbours: every other pixel format and channel order, both layouts, per-channel mean/std not ImageNet's.
    imageFormats: new Uint8Array(
      (['bgra', 'rgb', 'bgr', 'gray'] as const).flatMap((format) =>
        (['nchw', 'nhwc'] as const).flatMap((layout) => {
          const stride = format === 'gray' ? 1 : format === 'rgb' || format === 'bgr' ? 3 : 4;
          const channels = format === 'gray' ? 'gray' : format.startsWith('bgr') ? 'bgr' : 'rgb';
          const gray = channels === 'gray';
          const t = imageToTensor(pixels.subarray(0, 32 * 24 * stride), {
            width: 32,
            height: 24,
            format,
            channels,
            layout,
            mean: gray ? 0.45 : [0.1, 0.7, 0.3],
            std: gray ? 0.25 : [0.2, 0.5, 0.9],
          });
          return Array.from(bytes(t));
        }),
      ),
    ),
    imageBgrGray: new Uint8Array([
      ...bytes(imageToTensor(pixels.subarray(0, 32 * 24 * 3), { width: 32, height: 24, format: 'bgr', channels: 'bgr', layout: 'nhwc', divisor: 1 })),
      ...bytes(imageToTensor(pixels.subarray(0, 32 * 24), { width: 32, height: 24, format: 'gray' })),
    ]),
    calibrationMsePerAxis: (() => {
      const values: number[] = [];
      const m = new MseObserver({ levels: 16 });
      m.observe(finite);
      const mr = m.range();
      values.push(mr.min, mr.max);
      const perAxis = new MinMaxObserver({ axis: 1 });
      perAxis.observe(x, shape);
      for (const c of perAxis.ranges()) values.push(c.min, c.max, c.skippedNonFinite);
      const p = quantParamsFromRanges(perAxis.ranges(), { dtype: 'int8' });
      return new Uint8Array([...f64(...values), ...bytes(p.scale), ...p.zeroPoint]);
    })(),
    metrics: (() => {
      const other = finite.map((v, i) => v + ((i % 7) - 3) * 1e-3);
      const pr = parity(other, finite);
      const labels = Array.from({ length: 32 }, (_, i) => (i * 7) % 128);
      const ag = argmaxAgreement(other, finite, 128);
      const probs = sigmoid(finite.subarray(0, 256));
      return f64(
        pr.maxAbs, pr.maxRel, pr.maxUlp, pr.cosine, pr.sqnrDb, pr.nonFiniteMismatches,
        mse(other, finite), mae(other, finite),
        nllLoss(logSoftmax(finite, [32, 128]), 128, labels),
        crossEntropy(softmax(finite, [32, 128]), 128, labels, { from: 'probabilities' }),
        binaryCrossEntropy(finite.subarray(0, 256), Array.from(probs, (v) => (v > 0.5 ? 1 : 0))),
        accuracy(finite, 128, labels), topKAccuracy(finite, 128, labels, 5),
        ag.agree, ag.nearTies, ag.hardDisagreements.length,
      );
    })(),
  };
  return r;
}
