import { describe, expect, it } from 'vitest';
import {
  EntropyObserver,
  LeptonError,
  MinMaxObserver,
  MseObserver,
  PercentileObserver,
  affine,
  dequantizeLinear,
  dynamicQuantizeLinear,
  float32ToFloat16Array,
  imageToTensor,
  quantParamsFromRange,
  quantizeLinear,
  type PixelFormat,
  type RangeObserver,
} from '../src';

// Every tensor-core case of ../shared/cases/tensor-core.json that this module owns, with the expected values
// copied from that file (onnxruntime-node 1.30 results or exact arithmetic), each followed by its neighbours: the
// same kind of fault on other inputs. Neighbours that need onnxruntime as the reference are in
// field-cases.ort.test.ts. The int64, JSON and base64 cases belong to the wire format in @lepton/contracts.

describe('field cases: quantization', () => {
  it('ties-round-half-even: QuantizeLinear rounds half to even, not half up like Math.round', () => {
    const x = Float32Array.from([0.25, 0.75, 1.25, 1.75, -0.25, -0.75, -1.25, -1.75, 2.5, -2.5]);
    const y = quantizeLinear(x, [x.length], { dtype: 'int8', scale: 0.5, zeroPoint: 0 });
    expect(Array.from(y)).toEqual([0, 2, 2, 4, 0, -2, -2, -4, 5, -5]);
  });

  it('saturate-not-wrap-int8', () => {
    const y = quantizeLinear(Float32Array.from([-1000, 1000]), [2], { dtype: 'int8', scale: 0.5, zeroPoint: 0 });
    expect(Array.from(y)).toEqual([-128, 127]);
  });

  it('saturate-uint8-zero-point', () => {
    const x = Float32Array.from([-200, 200, 0.5, 1.5, -0.5]);
    const y = quantizeLinear(x, [5], { dtype: 'uint8', scale: 1, zeroPoint: 128 });
    expect(Array.from(y)).toEqual([0, 255, 128, 130, 128]);
  });

  it('saturation holds for every dtype, including int4 packed two per byte', () => {
    const x = Float32Array.from([-1e9, 1e9, -Infinity, Infinity]);
    const spec = { scale: 1, zeroPoint: 0 };
    expect(Array.from(quantizeLinear(x, [4], { ...spec, dtype: 'int16' }))).toEqual([-32768, 32767, -32768, 32767]);
    expect(Array.from(quantizeLinear(x, [4], { ...spec, dtype: 'uint16' }))).toEqual([0, 65535, 0, 65535]);
    // int4 [-8, 7, -8, 7] packed low nibble first: 0x78, 0x78.
    expect(Array.from(quantizeLinear(x, [4], { ...spec, dtype: 'int4' }))).toEqual([0x78, 0x78]);
    expect(Array.from(quantizeLinear(x, [4], { ...spec, dtype: 'uint4' }))).toEqual([0xf0, 0xf0]);
  });

  it('dynamic-quantize-ties: range includes 0, zero point and values round half to even', () => {
    const r = dynamicQuantizeLinear(Float32Array.from([-127, 128, 0.5]));
    expect({ y: Array.from(r.y), scale: r.scale, zeroPoint: r.zeroPoint }).toEqual({ y: [0, 255, 127], scale: 1, zeroPoint: 127 });
  });

  it('dynamic-quantize-zero-point-tie: 126.5 rounds to 126', () => {
    const r = dynamicQuantizeLinear(Float32Array.from([-253, 257]));
    expect({ y: Array.from(r.y), scale: r.scale, zeroPoint: r.zeroPoint }).toEqual({ y: [0, 254], scale: 2, zeroPoint: 126 });
  });

  it('degenerate-all-zero: finite non-zero scale', () => {
    const r = dynamicQuantizeLinear(new Float32Array(3));
    expect({ y: Array.from(r.y), scale: r.scale, zeroPoint: r.zeroPoint }).toEqual({ y: [0, 0, 0], scale: 1, zeroPoint: 0 });
  });

  it('degenerate-constant: range widened to include 0', () => {
    const r = dynamicQuantizeLinear(Float32Array.from([9, 9, 9]));
    expect({ y: Array.from(r.y), scale: r.scale, zeroPoint: r.zeroPoint }).toEqual({
      y: [255, 255, 255],
      scale: 0.03529411926865578,
      zeroPoint: 0,
    });
  });
});

describe('field cases: calibration', () => {
  it('calibration-ignores-nan: NaN does not poison the range and is counted', () => {
    const obs = new MinMaxObserver();
    obs.observe(Float32Array.from([NaN, 1, 2, 3]));
    const r = obs.range();
    expect({ min: r.min, max: r.max, skippedNonFinite: r.skippedNonFinite }).toEqual({ min: 0, max: 3, skippedNonFinite: 1 });
  });
});

describe('field case neighbours: calibration', () => {
  const observers: [string, (axis?: number) => RangeObserver][] = [
    ['min-max', (axis) => new MinMaxObserver({ axis })],
    ['percentile', (axis) => new PercentileObserver({ axis, percentile: 99 })],
    ['percentile symmetric', (axis) => new PercentileObserver({ axis, percentile: 99, symmetric: true })],
    ['entropy', (axis) => new EntropyObserver({ axis })],
    ['mse', (axis) => new MseObserver({ axis })],
  ];
  const clean = Float32Array.from({ length: 2000 }, (_, i) => Math.fround(Math.sin(i * 0.37) * 3 + (i % 7) * 0.01));
  const dirty = Float32Array.from(clean);
  const poison = [NaN, Infinity, -Infinity, NaN];
  [5, 17, 999, 1500].forEach((at, k) => (dirty[at] = poison[k]!));

  it.each(observers)('%s: NaN and +-Inf leave the range as it was on the clean data and are counted', (_, make) => {
    const a = make();
    a.observe(clean);
    const b = make();
    // Split batches, one of them only non-finite, so no batch boundary lets a value through.
    b.observe(Float32Array.of(Infinity, NaN, -Infinity));
    b.observe(dirty.subarray(0, 1000));
    b.observe(dirty.subarray(1000));
    const [ra, rb] = [a.range(), b.range()];
    expect({ min: rb.min, max: rb.max, count: rb.count + 4 }).toEqual({ min: ra.min, max: ra.max, count: ra.count });
    expect(rb.skippedNonFinite).toBe(7);
    expect(Number.isFinite(rb.min) && Number.isFinite(rb.max)).toBe(true);
  });

  it.each(observers)('%s per axis: each channel skips its own non-finite values; a channel of only NaN/Inf is [0, 0]', (_, make) => {
    // [2, 3, 400] on axis 1: channel 0 clean, channel 1 with a NaN and an Inf in each batch row, channel 2 poison only.
    const x = new Float32Array(2 * 3 * 400);
    for (let n = 0; n < 2; n++) {
      x.set(clean.subarray(n * 400, n * 400 + 400), (n * 3 + 0) * 400);
      x.set(clean.subarray(800 + n * 400, 1200 + n * 400), (n * 3 + 1) * 400);
      x[(n * 3 + 1) * 400 + 7] = NaN;
      x[(n * 3 + 1) * 400 + 300] = -Infinity;
      for (let i = 0; i < 400; i++) x[(n * 3 + 2) * 400 + i] = poison[i % 4]!;
    }
    const obs = make(1);
    obs.observe(x, [2, 3, 400]);
    const [c0, c1, c2] = obs.ranges();
    const ref0 = make();
    ref0.observe(Float32Array.from([...clean.subarray(0, 400), ...clean.subarray(400, 800)]));
    expect([c0!.min, c0!.max, c0!.skippedNonFinite]).toEqual([ref0.range().min, ref0.range().max, 0]);
    expect(c1!.skippedNonFinite).toBe(4);
    expect(c1!.count).toBe(796);
    expect(Number.isFinite(c1!.min) && Number.isFinite(c1!.max)).toBe(true);
    expect(c2).toMatchObject({ min: 0, max: 0, count: 0, skippedNonFinite: 800 });
  });
});

describe('field case neighbours: degenerate and extreme ranges', () => {
  const FLT_MAX = 3.4028234663852886e38;

  it('a span that overflows float32 ([-FLT_MAX, FLT_MAX], [-3e38, 3e38]) gives a finite scale covering it, not scale 1', () => {
    // The float32 span hi - lo is Infinity; it used to fall into the degenerate rule (scale 1), saturating everything.
    const p = quantParamsFromRange(-FLT_MAX, FLT_MAX, { dtype: 'int8' });
    expect(p.scale).toBe(Math.fround((2 * FLT_MAX) / 255));
    const q = quantizeLinear(Float32Array.of(-FLT_MAX, 0, FLT_MAX, 1e37), [4], { dtype: 'int8', ...p });
    expect(Array.from(q)).toEqual([-128, 0, 127, 4]);
    const back = dequantizeLinear(q, [4], { dtype: 'int8', ...p });
    expect(Math.abs(back[2]! - FLT_MAX)).toBeLessThanOrEqual(p.scale);
    expect(quantParamsFromRange(-3e38, 3e38, { dtype: 'uint8' })).toEqual({ scale: Math.fround(Math.fround(3e38) * 2 / 255), zeroPoint: 128, qmin: 0, qmax: 255 });
    const sym = quantParamsFromRange(0, FLT_MAX, { dtype: 'int16', symmetric: true });
    expect(sym.scale).toBe(Math.fround((2 * FLT_MAX) / 65534));
    expect(sym.zeroPoint).toBe(0);
  });

  it('a range bound beyond float32 (1e39) is refused, naming it, instead of becoming Infinity', () => {
    for (const [min, max, arg] of [[0, 1e39, 'max'], [-1e39, 0, 'min']] as const) {
      let e: unknown;
      try {
        quantParamsFromRange(min, max, { dtype: 'int8' });
      } catch (err) {
        e = err;
      }
      expect(e).toBeInstanceOf(LeptonError);
      expect((e as LeptonError).message).toContain(`${arg} is ${arg === 'max' ? max : min}; expected a value within float32's range`);
    }
  });

  it('tiny spans still give scale 1 (finite, non-zero) in every dtype', () => {
    for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'] as const) {
      expect(quantParamsFromRange(-1e-45, 1e-45, { dtype }).scale).toBe(1);
      expect(quantParamsFromRange(0, 0, { dtype, symmetric: true }).scale).toBe(1);
    }
  });
});

describe('field cases: conversions', () => {
  it('float16-cast: round to nearest even, subnormals, overflow to Infinity, NaN kept', () => {
    // 2 ** -24 and 2 ** -25 are the file's 5.960464477539063e-8 and 2.9802322387695312e-8, written exactly.
    const x = [1, -0, 65504, 65520, 2 ** -24, 2 ** -25, 1e-10, NaN, Infinity, -Infinity, 0.1];
    const bits = Array.from(float32ToFloat16Array(Float32Array.from(x)), (b) => '0x' + b.toString(16).padStart(4, '0'));
    expect(bits).toEqual(['0x3c00', '0x8000', '0x7bff', '0x7c00', '0x0001', '0x0000', '0x0000', '0x7e00', '0x7c00', '0xfc00', '0x2e66']);
  });

  it('rgba-to-planar-normalized: shape [1,3,2,2], alpha dropped, float32 arithmetic', () => {
    const rgba = Uint8ClampedArray.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 128, 128, 128, 255]);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const out = imageToTensor(rgba, { width: 2, height: 2, format: 'rgba', mean, std });
    const f = Math.fround;
    const expected = new Float32Array(12);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 4; p++) expected[c * 4 + p] = f(f(f(rgba[p * 4 + c]! / 255) - f(mean[c]!)) / f(std[c]!));
    }
    expect(Array.from(out)).toEqual(Array.from(expected));
    // Spot values worked out by hand: red channel of the red pixel and blue channel of the grey pixel.
    expect(out[0]).toBe(f((1 - f(0.485)) / f(0.229)));
    expect(out[11]).toBeCloseTo((128 / 255 - 0.406) / 0.225, 6);
    // Same bytes from a Uint8Array view of the same pixels.
    expect(imageToTensor(new Uint8Array(rgba.buffer), { width: 2, height: 2, format: 'rgba', mean, std })).toEqual(out);
  });

  it('rgba-to-planar neighbours: every pixel format, channel order and layout with per-channel mean/std', () => {
    const f = Math.fround;
    const [W, H] = [3, 2];
    const stride: Record<PixelFormat, number> = { rgba: 4, bgra: 4, rgb: 3, bgr: 3, gray: 1 };
    const rgbAt: Record<PixelFormat, number[]> = { rgba: [0, 1, 2], bgra: [2, 1, 0], rgb: [0, 1, 2], bgr: [2, 1, 0], gray: [0, 0, 0] };
    for (const format of ['rgba', 'bgra', 'rgb', 'bgr', 'gray'] as PixelFormat[]) {
      for (const channels of (format === 'gray' ? ['gray'] : ['rgb', 'bgr']) as ('rgb' | 'bgr' | 'gray')[]) {
        for (const layout of ['nchw', 'nhwc'] as const) {
          const px = Uint8Array.from({ length: W * H * stride[format] }, (_, i) => (i * 37 + 11) & 255);
          const C = channels === 'gray' ? 1 : 3;
          const [mean, std] = C === 1 ? [[0.45], [0.25]] : [[0.1, 0.7, 0.3], [0.2, 0.5, 0.9]];
          const got = imageToTensor(px, { width: W, height: H, format, channels, layout, mean, std });
          const want = new Float32Array(W * H * C);
          for (let p = 0; p < W * H; p++) {
            for (let c = 0; c < C; c++) {
              // Output channel c of 'bgr' is blue, green, red: mean[c] and std[c] belong to the output channel.
              const byte = px[p * stride[format] + (channels === 'bgr' ? rgbAt[format][2 - c]! : rgbAt[format][c]!)]!;
              want[layout === 'nchw' ? c * W * H + p : p * C + c] = f(f(f(byte / 255) - f(mean[c]!)) / f(std[c]!));
            }
          }
          expect(Array.from(got), `${format} -> ${channels} ${layout}`).toEqual(Array.from(want));
        }
      }
    }
  });

  it('normalisation and affine parameters that float32 cannot hold are refused, not turned into 0 or Infinity', () => {
    const px = new Uint8Array(4);
    const base = { width: 1, height: 1, format: 'rgba' as const };
    expect(() => imageToTensor(px, { ...base, std: [0.229, 1e-46, 0.225] })).toThrow('std[1] is 1e-46, which is 0 in float32');
    expect(() => imageToTensor(px, { ...base, std: 1e39 })).toThrow('std[0] is 1e+39, which is Infinity in float32');
    expect(() => imageToTensor(px, { ...base, mean: [0, 0, -1e39] })).toThrow('mean[2] is -1e+39, which is -Infinity in float32');
    expect(() => imageToTensor(px, { ...base, divisor: 1e39 })).toThrow('divisor is 1e+39');
    // c = 1e39 mapped every value to e without a word.
    expect(() => affine(Float32Array.of(1), [1], { c: 1e39, d: 1, e: 0 })).toThrow('affine parameter c[0] is 1e+39 (it is Infinity in float32');
    expect(() => affine(Float32Array.of(1), [1], { c: 1, d: [1e39], e: 0 })).toThrow('affine parameter d[0] is 1e+39');
    expect(() => affine(Float32Array.of(1), [1], { c: 1e-46, d: 1, e: 0 })).toThrow('affine parameter c[0] is 1e-46 (it is 0 in float32');
  });

  it('seed-affine: x / c * d + e with c = 1.2, d = 0.5, e = 0.3', () => {
    const y = affine(Float32Array.from([1.2, 0, 2.4]), [3], { c: 1.2, d: 0.5, e: 0.3 });
    expect(Array.from(y)).toEqual(Array.from(Float32Array.from([0.8, 0.3, 1.3])));
  });
});
