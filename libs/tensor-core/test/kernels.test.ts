import { describe, expect, it } from 'vitest';
import {
  LeptonError,
  accuracy,
  argmax,
  argmaxAgreement,
  binaryCrossEntropy,
  centerCrop,
  crossEntropy,
  dequantizeLinear,
  detExp,
  detLog,
  expForFloat32,
  imageTensorShape,
  imageToTensor,
  mae,
  maxUlpF16,
  mse,
  nchwToNhwc,
  nhwcToNchw,
  nllLoss,
  packInt4,
  parity,
  quantizeLinear,
  resize,
  slice,
  softmax,
  topK,
  topKAccuracy,
  ulpDistanceF16,
  ulpDistanceF32,
  unpackInt4,
} from '../src';

describe('layout conversions', () => {
  it('NHWC <-> NCHW', () => {
    // [1, 2, 2, 3] pixels p0..p3 with channels (r, g, b) = (10p, 10p+1, 10p+2)
    const nhwc = Float32Array.from([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const nchw = nhwcToNchw(nhwc, [1, 2, 2, 3]);
    expect(Array.from(nchw)).toEqual([0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32]);
    expect(nchwToNhwc(nchw, [1, 3, 2, 2])).toEqual(nhwc);
  });

  it('writes into the caller buffer and rejects a wrong one', () => {
    const out = new Uint8Array(6);
    expect(nhwcToNchw(Uint8Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => nhwcToNchw(Uint8Array.from([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], new Uint8Array(5))).toThrow(LeptonError);
    expect(() => nhwcToNchw(new Uint8Array(6), [1, 1, 2, 3], new Int8Array(6) as unknown as Uint8Array)).toThrow(/Int8Array/);
  });

  it('center crop and slice', () => {
    const x = Float32Array.from({ length: 2 * 4 * 5 }, (_, i) => i); // [2, 4, 5]
    const c = centerCrop(x, [2, 4, 5], [2, 3]);
    expect(Array.from(c)).toEqual([6, 7, 8, 11, 12, 13, 26, 27, 28, 31, 32, 33]);
    expect(Array.from(slice(x, [2, 4, 5], [1, 3, 4], [1, 1, 1]))).toEqual([39]);
    expect(() => centerCrop(x, [2, 4, 5], [5, 1])).toThrow(/within the input/);
  });

  it('resize by scales and nearest upsampling of a 2x2', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(resize(x, [1, 1, 2, 2], { scales: [2, 2] }))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(resize(x, [1, 1, 2, 2], { size: [3, 3], mode: 'linear', coordinateMode: 'align_corners' }))).toEqual([
      1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4,
    ]);
  });
});

describe('imageToTensor', () => {
  const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60]); // 2x1 RGB
  it('formats and channel orders', () => {
    const opts = { width: 2, height: 1, divisor: 1 } as const;
    expect(Array.from(imageToTensor(rgb, { ...opts, format: 'rgb' }))).toEqual([10, 40, 20, 50, 30, 60]);
    expect(Array.from(imageToTensor(rgb, { ...opts, format: 'bgr' }))).toEqual([30, 60, 20, 50, 10, 40]);
    expect(Array.from(imageToTensor(rgb, { ...opts, format: 'rgb', channels: 'bgr' }))).toEqual([30, 60, 20, 50, 10, 40]);
    expect(Array.from(imageToTensor(rgb, { ...opts, format: 'rgb', layout: 'nhwc' }))).toEqual([10, 20, 30, 40, 50, 60]);
    const bgra = Uint8Array.from([30, 20, 10, 255, 60, 50, 40, 0]);
    expect(Array.from(imageToTensor(bgra, { ...opts, format: 'bgra' }))).toEqual([10, 40, 20, 50, 30, 60]);
    const gray = Uint8Array.from([0, 255]);
    expect(Array.from(imageToTensor(gray, { width: 2, height: 1, format: 'gray' }))).toEqual([0, 1]);
    expect(imageTensorShape({ width: 2, height: 1, format: 'gray' })).toEqual([1, 1, 1, 2]);
    expect(Array.from(imageToTensor(gray, { width: 2, height: 1, format: 'gray', channels: 'rgb' }))).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('validates sizes and parameters at the boundary', () => {
    expect(() => imageToTensor(rgb, { width: 3, height: 1, format: 'rgb' })).toThrow(/needs 9/);
    expect(() => imageToTensor(rgb, { width: 2, height: 1, format: 'rgb', std: [1, 0, 1] })).toThrow(/std\[1\] is 0/);
    expect(() => imageToTensor(rgb, { width: 2, height: 1, format: 'rgb', mean: [1, 2] })).toThrow(/expected 1 or 3/);
  });
});

describe('post-processing', () => {
  it('softmax along an inner axis', () => {
    const y = softmax(Float32Array.from([0, 0, 1, 1]), [2, 2], 0);
    expect(Array.from(y)).toEqual([Math.fround(1 / (1 + Math.E)), Math.fround(1 / (1 + Math.E)), Math.fround(Math.E / (1 + Math.E)), Math.fround(Math.E / (1 + Math.E))]);
  });

  it('NaN: argmax keeps a leading NaN like onnxruntime; topK ranks NaN above every number', () => {
    const x = Float32Array.from([NaN, 1, 2, 1, NaN, 0, 3, 1, NaN]);
    // onnxruntime-node 1.30 ArgMax on these rows: [0, 0, 0].
    expect(Array.from(argmax(x, [3, 3], { axis: 1 }))).toEqual([0, 0, 0]);
    const big = topK(x, [3, 3], 2, { axis: 1 });
    expect(Array.from(big.indices)).toEqual([0, 2, 1, 0, 2, 0]);
    const small = topK(x, [3, 3], 2, { axis: 1, largest: false });
    expect(Array.from(small.indices)).toEqual([1, 2, 2, 0, 1, 0]);
  });

  it('topK smallest and zero-size', () => {
    const r = topK(Float32Array.from([3, 1, 2, 1]), [4], 2, { largest: false });
    expect([Array.from(r.values), Array.from(r.indices)]).toEqual([[1, 1], [1, 3]]);
    expect(topK(new Float32Array(0), [0, 4], 2).shape).toEqual([0, 2]);
    expect(() => topK(new Float32Array(4), [4], 5)).toThrow(/k is 5/);
  });

  it('detExp and detLog agree with Math to within a double ulp or two', () => {
    for (const x of [-745, -700, -20.5, -1, -1e-10, 0, 1e-10, 0.5, 1, 2, 10, 88.7, 700]) {
      expect(Math.abs(detExp(x) - Math.exp(x)) / Math.exp(x)).toBeLessThan(4e-16);
    }
    for (const x of [5e-324, 1e-310, 1e-30, 0.5, 1, Math.SQRT2, 2, 10, 1e300]) {
      expect(Math.abs(detLog(x) - Math.log(x))).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(Math.log(x))));
    }
    expect([detExp(1000), detExp(-1000), detLog(0), detLog(-1)]).toEqual([Infinity, 0, -Infinity, NaN]);
    // The table-driven exp behind softmax/sigmoid: within 2e-13 relative, identical after rounding to float32.
    for (let x = -100; x <= 100; x += 0.0137) {
      expect(Math.abs(expForFloat32(x) / Math.exp(x) - 1)).toBeLessThan(2e-13);
      expect(Math.fround(expForFloat32(x))).toBe(Math.fround(Math.exp(x)));
    }
    expect([expForFloat32(NaN), expForFloat32(-Infinity), expForFloat32(Infinity), expForFloat32(0)]).toEqual([NaN, 0, Infinity, 1]);
  });
});

describe('losses and accuracy', () => {
  const logits = Float32Array.from([2, 1, 0, 0, 0, 3]);
  const labels = [0, 2];
  it('cross-entropy from logits and from probabilities agree; NLL of log-softmax too', () => {
    const lse0 = Math.log(Math.exp(2) + Math.exp(1) + 1);
    const lse1 = Math.log(2 + Math.exp(3));
    const expected = (lse0 - 2 + (lse1 - 3)) / 2;
    expect(crossEntropy(logits, 3, labels)).toBeCloseTo(expected, 12);
    const probs = softmax(logits, [2, 3]);
    expect(crossEntropy(probs, 3, labels, { from: 'probabilities' })).toBeCloseTo(expected, 6);
    const logp = Float64Array.from(logits, (v, i) => v - (i < 3 ? lse0 : lse1));
    expect(nllLoss(logp, 3, labels, 'sum')).toBeCloseTo(2 * expected, 12);
    expect(crossEntropy(Float32Array.from([0, 1]), 2, [0], { from: 'probabilities' })).toBeCloseTo(-Math.log(1e-12), 9);
    expect(() => crossEntropy(logits, 3, [0, 3])).toThrow(/labels\[1\] is 3/);
  });

  it('MSE, MAE, BCE', () => {
    expect(mse([1, 2, 3], [1, 0, 0])).toBeCloseTo(13 / 3, 14);
    expect(mae([1, 2, 3], [1, 0, 0], 'sum')).toBe(5);
    const bceP = binaryCrossEntropy([0.9, 0.2], [1, 0]);
    expect(bceP).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 12);
    const z = [2.1972245773362196, -1.3862943611198906]; // logit(0.9), logit(0.2)
    expect(binaryCrossEntropy(z, [1, 0], { from: 'logits' })).toBeCloseTo(bceP, 12);
    expect(Number.isFinite(binaryCrossEntropy([1000, -1000], [0, 1], { from: 'logits' }))).toBe(true);
  });

  it('accuracy and top-k accuracy', () => {
    expect(accuracy(logits, 3, labels)).toBe(1);
    expect(accuracy(logits, 3, [1, 2])).toBe(0.5);
    expect(topKAccuracy(logits, 3, [1, 0], 2)).toBe(1); // row 1: [0, 0, 3] label 0 ties with the 2nd
    expect(topKAccuracy(logits, 3, [2, 0], 1)).toBe(0);
  });
});

describe('parity measures', () => {
  it('max abs / rel, ULPs, cosine, SQNR', () => {
    const ref = Float32Array.from([1, -2, 4, 0]);
    const cand = Float32Array.from([1, -2, Math.fround(4 + 2 ** -21), 0]);
    const r = parity(cand, ref);
    expect(r.maxAbs).toBe(2 ** -21);
    expect(r.maxRel).toBe(2 ** -23);
    expect(r.maxUlp).toBe(1);
    expect(r.cosine).toBeCloseTo(1, 12);
    expect(r.sqnrDb).toBeCloseTo(10 * Math.log10(21 / 2 ** -42), 9);
    expect(parity(ref, ref).sqnrDb).toBe(Infinity);
    expect(parity(Float32Array.from([NaN, 1]), Float32Array.from([NaN, Infinity])).nonFiniteMismatches).toBe(1);
  });

  it('ULP distances across zero and in float16', () => {
    expect(ulpDistanceF32(0, -0)).toBe(0);
    expect(ulpDistanceF32(1.401298464324817e-45, -1.401298464324817e-45)).toBe(2);
    expect(ulpDistanceF32(NaN, NaN)).toBe(0);
    expect(ulpDistanceF32(NaN, 1)).toBe(Infinity);
    expect(ulpDistanceF16(0x3c00, 0x3c01)).toBe(1);
    expect(ulpDistanceF16(0x0001, 0x8001)).toBe(2);
    expect(maxUlpF16(Uint16Array.of(0x3c00, 0x7e00), Uint16Array.of(0x3c02, 0x7e01))).toBe(2);
  });

  it('argmax agreement tells near ties from real disagreements', () => {
    const ref = Float32Array.from([0.5, 0.5000001, 0, 0.9, 0.1, 0, 0.2, 0.7, 0.1]);
    const cand = Float32Array.from([0.6, 0.5, 0, 0.1, 0.9, 0, 0.2, 0.7, 0.1]);
    expect(argmaxAgreement(cand, ref, 3, 1e-6)).toEqual({ rows: 3, agree: 1, disagree: 2, nearTies: 1, hardDisagreements: [1] });
  });
});

describe('boundary validation', () => {
  const x = new Float32Array(4);
  it('names the argument and the allowed range', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as LeptonError;
      }
      throw new Error('did not throw');
    };
    const e1 = err(() => quantizeLinear(x, [4], { dtype: 'int8', scale: 0 }));
    expect([e1.code, e1.message]).toEqual(['VALIDATION_FAILED', 'scale[0] is 0; expected a finite positive float32']);
    const e2 = err(() => quantizeLinear(x, [4], { dtype: 'uint8', scale: 1, zeroPoint: 300 }));
    expect(e2.message).toBe('zeroPoint[0] is 300; expected an integer in [0, 255] for uint8');
    const e3 = err(() => quantizeLinear(x, [2, 2], { dtype: 'int8', scale: Float32Array.of(1, 1, 1), axis: 1 }));
    expect(e3.message).toMatch(/scale has 3 values; expected 1 \(per tensor\) or 2/);
    const e4 = err(() => quantizeLinear(x, [2, 2], { dtype: 'int8', scale: Float32Array.of(1, 1), axis: 2 }));
    expect(e4.message).toBe('axis is 2; expected an integer in [-2, 1]');
    expect(err(() => quantizeLinear(x, [5], { dtype: 'int8', scale: 1 })).code).toBe('TENSOR_SIZE_MISMATCH');
    expect(err(() => quantizeLinear(x, [4], { dtype: 'int32' as 'int8', scale: 1 })).message).toMatch(/dtype is int32; expected one of int8/);
    expect(err(() => dequantizeLinear(new Uint8Array(4) as unknown as Int8Array, [4], { dtype: 'int8', scale: 1 })).message).toMatch(/q must be a Int8Array/);
    expect(err(() => quantizeLinear(x, [4], { dtype: 'int8', scale: 1 }, new Int8Array(3))).code).toBe('TENSOR_SIZE_MISMATCH');
  });

  it('int4 packing is low nibble first and keeps odd tails zero', () => {
    const packed = packInt4([1, -2, 7]);
    expect(Array.from(packed)).toEqual([0xe1, 0x07]);
    expect(Array.from(unpackInt4(packed, 3, true))).toEqual([1, -2, 7]);
    const out = new Uint8Array(2).fill(0xff);
    quantizeLinear(Float32Array.of(1, -2, 7), [3], { dtype: 'int4', scale: 1 }, out);
    expect(Array.from(out)).toEqual([0xe1, 0x07]);
  });
});
