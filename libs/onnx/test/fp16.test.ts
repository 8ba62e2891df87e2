import { describe, expect, it } from 'vitest';
import { FP16_MAX, FP16_MIN_SUBNORMAL, convertFloat16, decodeModel, int64, type TensorProto } from '../src';
import { f32, graph, i64, intAttr, model, node, bytes, randomFloats } from './support/build';
import { checkModels, hasChecker, ort, run, tensor } from './support/ort';
import { float16BitsToFloat32, float16BitsToFloat32 as f16 } from '@lepton/tensor-core';

// Compression case fp16-overflow. Y = (X * Big + Tiny) where Big holds 1e5 (above 65504) and Tiny 1e-9 (below
// float16's smallest subnormal); then a Resize by a computed scale and a shape computed from Shape (stays fp32).
const big = f32('Big', [4, 1, 1], Float32Array.of(1e5, -7e4, 2, 0.5));
const tiny = f32('Tiny', [4, 1, 1], Float32Array.of(1e-9, -1e-9, 0, 3));
const scales = f32('Scales', [4], Float32Array.of(1, 1, 2, 2));
const nodes = [
  node('Mul', ['X', 'Big'], ['A']),
  node('Add', ['A', 'Tiny'], ['B']),
  node('Resize', ['B', '', 'Scales'], ['R'], [{ name: 'mode', type: 3, s: new TextEncoder().encode('nearest'), floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }]),
  // Shape arithmetic: numel as float, times 0.5, back to int64, used as a Reshape target [-1, n/2].
  node('Shape', ['R'], ['S']),
  node('Cast', ['S'], ['Sf'], [intAttr('to', 1)]),
  node('ReduceProd', ['Sf'], ['N'], [intAttr('keepdims', 1)]),
  node('Mul', ['N', 'Half'], ['Nh']),
  node('Cast', ['Nh'], ['Ni'], [intAttr('to', 7)]),
  node('Concat', ['MinusOne', 'Ni'], ['Shape2'], [intAttr('axis', 0)]),
  node('Reshape', ['R', 'Shape2'], ['Y']),
];
const original = bytes(model(graph(nodes, [['X', 1, [1, 4, 2, 2]]], [['Y', 1, [2, 32]]], [big, tiny, scales, f32('Half', [1], Float32Array.of(0.5)), i64('MinusOne', [-1])]), 17));

function constant(m: ReturnType<typeof decodeModel>, name: string): TensorProto {
  return m.graph!.initializer.find((t) => t.name === name)!;
}

describe('fp16 (compression case fp16-overflow)', () => {
  const r = convertFloat16(original);
  const out = decodeModel(r.model);

  it('clamps values above 65504 and below the smallest subnormal, and counts them', () => {
    expect(r.report.clampedHigh).toBe(2);
    expect(r.report.clampedLow).toBe(2);
    const b = constant(out, 'Big_fp16');
    const values = Array.from({ length: 4 }, (_, i) => f16(new DataView(b.rawData!.buffer, b.rawData!.byteOffset).getUint16(i * 2, true)));
    expect(values).toEqual([FP16_MAX, -FP16_MAX, 2, 0.5]);
    const t = constant(out, 'Tiny_fp16');
    const tv = Array.from({ length: 4 }, (_, i) => float16BitsToFloat32(new DataView(t.rawData!.buffer, t.rawData!.byteOffset).getUint16(i * 2, true)));
    expect(tv).toEqual([FP16_MIN_SUBNORMAL, -FP16_MIN_SUBNORMAL, 0, 3]);
  });

  it('keeps the model inputs and outputs float32 (keep-io-types on by default)', () => {
    expect(out.graph!.input[0]!.type!.tensorType!.elemType).toBe(1);
    expect(out.graph!.output[0]!.type!.tensorType!.elemType).toBe(1);
    const castIn = out.graph!.node.find((n) => n.opType === 'Cast' && n.input[0] === 'X')!;
    expect(int64(castIn.attribute[0]!.i)).toBe(10);
  });

  it('keeps Resize scales and the shape arithmetic in float32', () => {
    expect(constant(out, 'Scales').dataType).toBe(1);
    expect(constant(out, 'Half').dataType).toBe(1);
    expect(r.report.keptFp32Nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['Resize', 'Mul', 'ReduceProd']));
    const shapeCast = out.graph!.node.find((n) => n.opType === 'Cast' && n.input[0] === 'S')!;
    expect(int64(shapeCast.attribute[0]!.i)).toBe(1);
  });

  it('runs on onnxruntime-node with the clamped values instead of Infinity', async () => {
    const x = tensor(Float32Array.from({ length: 16 }, (_, i) => (i % 4) + 1), [1, 4, 2, 2]);
    const ref = await run(original, { X: x });
    const got = await run(r.model, { X: x });
    expect(got.Y!.length).toBe(64);
    // Channel 0 of fp32 is 1e5 * x; fp16 saturates at 65504 * x, which itself overflows float16 for x >= 2.
    expect(Number.isFinite(got.Y![0]!)).toBe(true);
    expect(got.Y![0]).toBe(FP16_MAX);
    expect(ref.Y![0]).toBe(1e5);
    // Channels 2 and 3 are exact in both.
    expect(Array.from(got.Y!.slice(32))).toEqual(Array.from(ref.Y!.slice(32)));
  });

  it('keepIoTypes false makes the interface float16', async () => {
    const m = decodeModel(convertFloat16(original, { keepIoTypes: false }).model);
    expect(m.graph!.input[0]!.type!.tensorType!.elemType).toBe(10);
    expect(m.graph!.output[0]!.type!.tensorType!.elemType).toBe(10);
  });

  it('op and node block lists keep those nodes and their weights in float32, with Casts around them', async () => {
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['H']), node('Relu', ['H'], ['R']), node('MatMul', ['R', 'V'], ['Y'])], [['X', 1, [2, 8]]], [['Y', 1, [2, 4]]], [f32('W', [8, 8], randomFloats(64, 1)), f32('V', [8, 4], randomFloats(32, 2))])));
    for (const opts of [{ opBlockList: ['MatMul'] }, { nodeBlockList: ['MatMul_H', 'MatMul_Y'] }]) {
      const r = convertFloat16(m, opts);
      const out = decodeModel(r.model);
      expect(r.report.keptFp32Nodes.map((n) => n.node).sort()).toEqual(['MatMul_H', 'MatMul_Y']);
      expect(out.graph!.initializer.map((t) => [t.name, t.dataType])).toEqual([['W', 1], ['V', 1]]);
      // Relu alone runs in float16: a Cast down before it and one up after it.
      expect(out.graph!.node.filter((n) => n.opType === 'Cast').map((n) => int64(n.attribute[0]!.i))).toEqual([10, 1]);
      const x = { X: tensor(randomFloats(16, 3), [2, 8]) };
      const [a, b] = [(await run(m, x)).Y!, (await run(r.model, x)).Y!];
      const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));
      // onnxruntime may fold the Cast -> Relu -> Cast round trip away, so only closeness is asserted.
      expect(diff).toBeLessThan(0.01);
    }
  });

  it.skipIf(!hasChecker)('passes onnx.checker.check_model', () => {
    const other = bytes(model(graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [2, 8]]], [['Y', 1, [2, 4]]], [f32('W', [8, 4], randomFloats(32, 1))])));
    expect(checkModels({ overflow: r.model, io16: convertFloat16(original, { keepIoTypes: false }).model, matmul: convertFloat16(other).model })).toEqual({ overflow: '', io16: '', matmul: '' });
  });
});

describe('fp16-overflow neighbours: constants in every spelling, on inputs of several ops', () => {
  const attr = (name: string, type: number, v: Record<string, unknown>) => ({ name, type, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [], ...v });
  // A = X * Big (Constant value_float 1e6); B = Where(M, A, Fill) with Fill an initializer -1e9 (a mask filler);
  // D = Clip(B, Lo, Hi) with Lo a Constant tensor -1e10 and Hi a Constant value_float 1e10; Y = D + Tiny (Constant
  // value_floats [1e-9, -1e-9, 0, 3]); Z = X * K with K = ConstantOfShape(value 1e6).
  const m = bytes(
    model(
      graph(
        [
          node('Constant', [], ['Big'], [attr('value_float', 1, { f: 1e6 })]),
          node('Mul', ['X', 'Big'], ['A']),
          node('Where', ['M', 'A', 'Fill'], ['B']),
          node('Constant', [], ['Lo'], [attr('value', 4, { t: f32('', [], Float32Array.of(-1e10)) })]),
          node('Constant', [], ['Hi'], [attr('value_float', 1, { f: 1e10 })]),
          node('Clip', ['B', 'Lo', 'Hi'], ['D']),
          node('Constant', [], ['Tiny'], [attr('value_floats', 6, { floats: [1e-9, -1e-9, 0, 3] })]),
          node('Add', ['D', 'Tiny'], ['Y']),
          node('ConstantOfShape', ['Four'], ['K'], [attr('value', 4, { t: f32('', [1], Float32Array.of(1e6)) })]),
          node('Mul', ['X', 'K'], ['Z']),
        ],
        [['X', 1, [4]], ['M', 9, [4]]],
        [['Y', 1, [4]], ['Z', 1, [4]]],
        [f32('Fill', [], Float32Array.of(-1e9)), i64('Four', [4])],
      ),
      17,
    ),
  );

  it('clamps and counts each one (value_float and value_floats were left to a run-time Cast that made Infinity)', async () => {
    const r = convertFloat16(m);
    // High: Big, Fill, Lo, Hi, K's value; low: Tiny's +-1e-9.
    expect([r.report.clampedHigh, r.report.clampedLow]).toEqual([5, 2]);
    const feeds = { X: tensor(Float32Array.of(1e-3, 2e-3, -1e-3, 0), [4]), M: new ort.Tensor('bool', [true, false, true, true], [4]) };
    const got = await run(r.model, feeds);
    expect(Array.from(got.Y!).every(Number.isFinite)).toBe(true);
    expect(Array.from(got.Z!).every(Number.isFinite)).toBe(true);
    // The masked position holds the clamped filler, still below every real value; the rest is x * 65504 in float16.
    expect(got.Y![1]).toBe(-FP16_MAX);
    expect(got.Y![3]).toBe(3);
    // onnxruntime may run a Cast -> Mul -> Cast chain in float32 (it folds such round trips), so: close to x * 65504.
    const want = [1e-3, 2e-3, -1e-3, 0].map((x) => x * FP16_MAX);
    Array.from(got.Z!).forEach((z, i) => expect(Math.abs(z - want[i]!), `Z[${i}]`).toBeLessThanOrEqual(1e-3 * Math.abs(want[i]!)));
    expect(Math.abs(got.Y![0]! - want[0]!)).toBeLessThanOrEqual(1e-3 * want[0]!);
    if (hasChecker) expect(checkModels({ m: r.model })).toEqual({ m: '' });
  });
});

export { ort };
