import { describe, expect, it } from 'vitest';
import {
  MinMaxObserver,
  affine,
  dynamicQuantizeLinear,
  float32ToFloat16Array,
  imageToTensor,
  quantizeLinear,
} from '../src';

// Every tensor-core case of ../shared/cases/tensor-core.json that this module owns, with the expected values
// copied from that file (onnxruntime-node 1.30 results or exact arithmetic). The int64, JSON and base64 cases
// belong to the wire format in @lepton/contracts and are tested there.

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

  it('seed-affine: x / c * d + e with c = 1.2, d = 0.5, e = 0.3', () => {
    const y = affine(Float32Array.from([1.2, 0, 2.4]), [3], { c: 1.2, d: 0.5, e: 0.3 });
    expect(Array.from(y)).toEqual(Array.from(Float32Array.from([0.8, 0.3, 1.3])));
  });
});
