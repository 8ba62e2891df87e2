import { describe, expect, it } from 'vitest';
import {
  QUANT_LIMITS,
  affine,
  castTensor,
  createTensor,
  dynamicQuantizeLinear,
  nhwcToNchw,
  packInt4,
  quantizeLinear,
  unpackInt4,
  type QuantDType,
} from '../src';
import { buildModel, ort, runModel } from './support/onnx-model';
import { firstMismatch } from './support/random';

// Neighbours of the field cases in ../shared/cases/tensor-core.json that need a reference: the same kind of fault
// on other dtypes, layouts and inputs. Expected values: onnxruntime-node 1.30 (CPU EP, optimizations off), one-node
// models built here, compared bit for bit. The cases themselves are in field-cases.test.ts.

const ALL: QuantDType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];
const FLT_MAX = 3.4028234663852886e38;

function storage(dtype: QuantDType, v: number[]): ArrayBufferView {
  switch (dtype) {
    case 'int8':
      return Int8Array.from(v);
    case 'uint8':
      return Uint8Array.from(v);
    case 'int16':
      return Int16Array.from(v);
    case 'uint16':
      return Uint16Array.from(v);
    default:
      return packInt4(v);
  }
}

/** onnxruntime's QuantizeLinear; int4 results are widened in-graph (onnxruntime-node cannot return int4). */
async function ortQuantize(dtype: QuantDType, x: Float32Array, shape: number[], scale: Float32Array, zp: number[], pShape: number[], attrs: Record<string, number>): Promise<number[]> {
  const packed = dtype === 'int4' || dtype === 'uint4';
  const model = buildModel({
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 's', 'zp'], outputs: [packed ? 'q' : 'y'], attrs },
      ...(packed ? [{ op: 'Cast', inputs: ['q'], outputs: ['y'], attrs: { to: 3 } }] : []),
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: 'y', dtype: packed ? 'int8' : dtype, shape }],
    initializers: [
      { name: 's', dtype: 'float32', shape: pShape, data: scale },
      { name: 'zp', dtype, shape: pShape, data: storage(dtype, zp) },
    ],
  });
  const r = await runModel(model, { x: new ort.Tensor('float32', x, shape) });
  return Array.from(r['y']!.data as ArrayLike<number>);
}

describe('ties-round-half-even / saturate-*: every quant dtype, per tensor, per axis and blocked, zero points at the extremes', () => {
  for (const dtype of ALL) {
    for (const layout of ['per tensor', 'per axis', 'blocked'] as const) {
      it(`${dtype} ${layout}`, async () => {
        const [qmin, qmax] = QUANT_LIMITS[dtype];
        const shape = [4, 6];
        // Exact ties (k + 0.5) * scale with power-of-two scales, sized to the dtype's range so some saturate too.
        const reach = dtype.endsWith('16') ? 3000 : dtype.endsWith('4') ? 1 : 20;
        const x = Float32Array.from({ length: 24 }, (_, i) => ((i % 12) - 6 + 0.5) * (i < 12 ? 0.5 : 0.25) * reach);
        x.set([1e9, -1e9, -0, 1e-45], 0);
        // Zero points: qmin, qmax, negative (signed types), odd and even, so ties land on both parities after +zp.
        const signed = !dtype.startsWith('u');
        const zps = [qmin, qmax, signed ? -1 : 1, signed ? -3 : 3, 0, 2];
        let scale: Float32Array;
        let zp: number[];
        let pShape: number[];
        let attrs: Record<string, number> = {};
        if (layout === 'per tensor') {
          [scale, zp, pShape] = [Float32Array.of(0.5), [zps[2]!], []];
        } else if (layout === 'per axis') {
          [scale, zp, pShape, attrs] = [Float32Array.of(0.5, 0.25, 1, 2, 0.5, 0.125), zps, [6], { axis: 1 }];
        } else {
          scale = Float32Array.from({ length: 12 }, (_, i) => [0.5, 0.25, 1][i % 3]!);
          zp = Array.from({ length: 12 }, (_, i) => zps[i % 6]!);
          [pShape, attrs] = [[2, 6], { axis: 0, block_size: 2 }];
        }
        const expected = await ortQuantize(dtype, x, shape, scale, zp, pShape, attrs);
        const got = quantizeLinear(x, shape, { dtype, scale, zeroPoint: zp, axis: attrs['axis'], blockSize: attrs['block_size'] });
        const ours = dtype === 'int4' || dtype === 'uint4' ? Array.from(unpackInt4(got as Uint8Array, 24, dtype === 'int4')) : Array.from(got as ArrayLike<number>);
        const bad = firstMismatch(ours, expected);
        expect(bad, `first mismatch at ${bad}: x=${x[bad]} ours=${ours[bad]} onnxruntime=${expected[bad]}`).toBe(-1);
        // The planted saturating values are at the type's limits, never wrapped.
        expect(ours.slice(0, 2).every((v) => v === qmin || v === qmax)).toBe(true);
      });
    }
  }
});

describe('dynamic-quantize-* / degenerate-*: DynamicQuantizeLinear at the edges of float32', () => {
  const model = buildModel({
    nodes: [{ op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 's', 'z'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n'] }],
    outputs: [
      { name: 'y', dtype: 'uint8' },
      { name: 's', dtype: 'float32' },
      { name: 'z', dtype: 'uint8' },
    ],
  });
  const inputs: [string, number[]][] = [
    ['FLT_MAX and -FLT_MAX (span overflows)', [FLT_MAX, -FLT_MAX, 1]],
    ['FLT_MAX and 0', [FLT_MAX, 0]],
    ['+-2e38', [2e38, -2e38]],
    ['smallest subnormal and 0', [1e-45, 0]],
    ['minus smallest subnormal', [-1e-45]],
    ['-0 alone', [-0]],
    ['NaN alone', [NaN]],
    ['two NaN and a value', [NaN, NaN, 5]],
    ['+Inf alone', [Infinity]],
    ['+-Inf', [Infinity, -Infinity]],
    ['-Inf and a value', [-Infinity, 1]],
    ['zero point tie 127.5 (rounds to 128)', [-255, 255]],
    ['zero point tie 0.5 (rounds to 0)', [-0.5, 254.5]],
  ];
  for (const [name, values] of inputs) {
    it(name, async () => {
      const x = Float32Array.from(values);
      const r = await runModel(model, { x: new ort.Tensor('float32', x, [x.length]) });
      const ours = dynamicQuantizeLinear(x);
      // Object.is: onnxruntime's scale is NaN or 0 for some of these, and so must ours be (bit-exact with the op).
      expect(Object.is(ours.scale, (r['s']!.data as Float32Array)[0])).toBe(true);
      expect(ours.zeroPoint).toBe((r['z']!.data as Uint8Array)[0]);
      expect(Array.from(ours.y)).toEqual(Array.from(r['y']!.data as Uint8Array));
    });
  }
});

describe('float16-cast from float64: subnormal ties after double rounding, overflow, NaN payloads', () => {
  it('castTensor float64 -> float16 matches onnxruntime bit for bit', async () => {
    const values = [
      2 ** -25, 2 ** -25 * (1 + 2 ** -40), 2 ** -25 * (1 - 2 ** -40), // tie to 0, just above, just below
      2 ** -24 * 1.5, 2 ** -24 * (1.5 - 2 ** -40), 2 ** -24 * (1.5 + 2 ** -40), // subnormal tie to even and neighbours
      2 ** -14 * (1 - 2 ** -11), 2 ** -14 * (1 - 2 ** -11 - 2 ** -40), // largest subnormal / smallest normal boundary
      65504, 65519.99999999, 65520, 65520 - 2 ** -30, 1e300, -1e300, 2 ** -1074, -(2 ** -1074),
      1 + 2 ** -11, 1 + 2 ** -11 + 2 ** -45, 1 + 2 ** -11 - 2 ** -45, 3 * 2 ** -12 + 2 ** -50, 1e-8, 6.1e-5, -0, 0,
    ];
    const x = new Float64Array(values.length + 6);
    x.set(values);
    // NaNs: signalling, negative quiet, quiet with payload, negative signalling, all payload bits, low payload only.
    new BigUint64Array(x.buffer).set(
      [0x7ff0000000000001n, 0xfff8000000000000n, 0x7ff8000000000001n, 0xfff0000000000001n, 0x7ff7ffffffffffffn, 0x7ff0000020000000n],
      values.length,
    );
    const model = buildModel({
      nodes: [{ op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: 10 } }],
      inputs: [{ name: 'x', dtype: 'float64', shape: [x.length] }],
      outputs: [{ name: 'y', dtype: 'float16', shape: [x.length] }],
    });
    const r = await runModel(model, { x: new ort.Tensor('float64', x, [x.length]) });
    const expected = Array.from(r['y']!.data as Uint16Array);
    const ours = Array.from(castTensor(createTensor('float64', [x.length], x), 'float16').data as Uint16Array);
    const bad = firstMismatch(ours, expected);
    expect(bad, `first mismatch at ${bad}: x=${x[bad]} ours=0x${ours[bad]?.toString(16)} onnxruntime=0x${expected[bad]?.toString(16)}`).toBe(-1);
    // The NaNs come out as the canonical quiet NaN with their sign, as onnxruntime's float64 path makes them.
    expect(ours.slice(values.length)).toEqual([0x7e00, 0xfe00, 0x7e00, 0xfe00, 0x7e00, 0x7e00]);
  });
});

describe('seed-affine per channel: float32 Div, Mul, Add as onnxruntime computes them', () => {
  it('per-channel c, d, e on axis 1 with NaN, Inf, -0, FLT_MAX and subnormal inputs', async () => {
    const shape = [2, 3, 4];
    const x = Float32Array.from({ length: 24 }, (_, i) => (i - 11) * 0.37);
    x.set([NaN, Infinity, -0, 3e38, -3e38, 1e-45], 0);
    const c = Float32Array.of(1.2, 1e-30, -7);
    const d = Float32Array.of(0.5, 1e30, 3);
    const e = Float32Array.of(0.3, -0, 1e-3);
    const model = buildModel({
      nodes: [
        { op: 'Div', inputs: ['x', 'c'], outputs: ['a'] },
        { op: 'Mul', inputs: ['a', 'd'], outputs: ['b'] },
        { op: 'Add', inputs: ['b', 'e'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape }],
      outputs: [{ name: 'y', dtype: 'float32', shape }],
      initializers: (['c', 'd', 'e'] as const).map((name, i) => ({ name, dtype: 'float32' as const, shape: [3, 1], data: [c, d, e][i]! })),
    });
    const r = await runModel(model, { x: new ort.Tensor('float32', x, shape) });
    const words = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
    expect(words(affine(x, shape, { c, d, e, axis: 1 }))).toEqual(words(r['y']!.data as Float32Array));
  });
});

describe('nhwc-into-nchw: channels-last to channels-first at other ranks (and H == C)', () => {
  for (const shape of [[2, 5, 3], [1, 3, 3, 3], [2, 2, 3, 4, 3], [1, 1, 1, 1, 1, 2], [0, 4, 3], [1, 7, 1]]) {
    it(`[${shape.join(', ')}] matches onnxruntime Transpose`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i);
      const r = shape.length;
      const perm = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
      const model = buildModel({
        nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm } }],
        inputs: [{ name: 'x', dtype: 'float32', shape }],
        outputs: [{ name: 'y', dtype: 'float32', shape: perm.map((p) => shape[p]!) }],
      });
      const expected = Array.from((await runModel(model, { x: new ort.Tensor('float32', x, shape) }))['y']!.data as Float32Array);
      expect(Array.from(nhwcToNchw(x, shape))).toEqual(expected);
      // int64 storage (BigInt64Array) takes the same path; values past 2^53 stay exact.
      const big = BigInt64Array.from(x, (v) => BigInt(v) + 2n ** 60n);
      expect(Array.from(nhwcToNchw(big, shape), (v) => Number(v - 2n ** 60n))).toEqual(expected);
    });
  }
});
