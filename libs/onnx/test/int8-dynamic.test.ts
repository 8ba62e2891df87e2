import { describe, expect, it } from 'vitest';
import { dynamicQuantizeLinear } from '@lepton/tensor-core';
import { decodeModel, quantizeDynamic, type ModelProto } from '../src';
import { convModel, f32, gemmModel, graph, matmulModel, model, node, bytes, randomFloats } from './support/build';
import { checkModels, createWebRunner, hasChecker, maxAbs, maxAbsDiff, ort, ortWeb, run, tensor } from './support/ort';

function initType(m: ModelProto, name: string): number | undefined {
  return m.graph!.initializer.find((t) => t.name === name)?.dataType;
}

function initDims(m: ModelProto, name: string): number[] {
  return (m.graph!.initializer.find((t) => t.name === name)?.dims ?? []).map(Number);
}

describe('int8-dynamic (compression case unsupported-integer-patterns)', () => {
  const cnn = bytes(
    model(
      graph(
        [node('Conv', ['X', 'W1', 'B1'], ['C1']), node('Relu', ['C1'], ['R1']), node('Flatten', ['R1'], ['F']), node('Gemm', ['F', 'W2', 'B2'], ['Y'], [{ name: 'transB', type: 2, i: 1, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }])],
        [['X', 1, [1, 2, 6, 6]]],
        [['Y', 1, [1, 5]]],
        [f32('W1', [4, 2, 3, 3], randomFloats(72, 31, 0.5)), f32('B1', [4], randomFloats(4, 32, 0.1)), f32('W2', [5, 64], randomFloats(320, 33, 0.3)), f32('B2', [5], randomFloats(5, 34, 0.1))],
      ),
    ),
  );
  const r = quantizeDynamic(cnn);
  const out = decodeModel(r.model);

  it('never emits ConvInteger with int8 weights, nor MatMulInteger with a per-row a_zero_point', () => {
    const conv = out.graph!.node.filter((n) => n.opType === 'ConvInteger');
    expect(conv).toHaveLength(1);
    for (const n of conv) expect(initType(out, n.input[1]!)).toBe(2); // uint8 weights: u8 x u8
    const mm = out.graph!.node.filter((n) => n.opType === 'MatMulInteger');
    expect(mm).toHaveLength(1);
    for (const n of mm) {
      // a_zero_point comes from DynamicQuantizeLinear, which only makes a scalar.
      const producer = out.graph!.node.find((p) => p.output.includes(n.input[2]!))!;
      expect(producer.opType).toBe('DynamicQuantizeLinear');
      expect(initDims(out, n.input[3]!)).toEqual([]);
    }
    expect(r.report.rewritten.map((x) => x.op).sort()).toEqual(['Conv', 'Gemm']);
  });

  it('runs on onnxruntime-node and onnxruntime-web with outputs close to fp32', async () => {
    const x = tensor(randomFloats(72, 35), [1, 2, 6, 6]);
    const ref = await run(cnn, { X: x });
    const got = await run(r.model, { X: x });
    expect(maxAbsDiff(ref.Y!, got.Y!)).toBeLessThan(0.05 * maxAbs(ref.Y!));
    const web = await (await createWebRunner(r.model)).run({ X: new ortWeb.Tensor('float32', x.data as Float32Array, [1, 2, 6, 6]) });
    expect(maxAbsDiff(web.Y!.data as Float32Array, got.Y!)).toBeLessThan(1e-5);
  });

  it('handles MatMul and Gemm with transB 0 and 1', async () => {
    for (const m of [matmulModel(3, 16, 8), gemmModel(3, 16, 8, 0), gemmModel(3, 16, 8, 1)]) {
      const q = quantizeDynamic(m);
      expect(q.report.rewritten).toHaveLength(1);
      const x = tensor(randomFloats(48, 36), [3, 16]);
      const [a, b] = [await run(m, { X: x }), await run(q.model, { X: x })];
      expect(maxAbsDiff(a.Y!, b.Y!)).toBeLessThan(0.03 * maxAbs(a.Y!));
    }
  });

  it.skipIf(!hasChecker)('variants pass onnx.checker.check_model', () => {
    const v = { cnn: r.model, conv: quantizeDynamic(convModel(3, 8, 3, 6)).model, gemm1: quantizeDynamic(gemmModel(3, 16, 8, 1)).model };
    expect(checkModels(v)).toEqual({ cnn: '', conv: '', gemm1: '' });
  });
});

describe('u8s8 saturation (compression case u8s8-saturation)', () => {
  // A = uint8 [210, 198, 234], W = int8 [-81, -80, 127], scales 0.01, zero points 0: exact -0.3132.
  const exact = (210 * -81 + 198 * -80 + 234 * 127) * 0.01 * 0.01;

  it('MatMulInteger on this machine: exact, or the saturated pair sum an AVX2-without-VNNI kernel gives', async () => {
    const m = bytes(
      model(
        graph(
          [node('MatMulInteger', ['A', 'W'], ['I']), node('Cast', ['I'], ['F'], [{ name: 'to', type: 2, i: 1, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }])],
          [['A', 2, [1, 3]]],
          [['F', 1, [1, 1]]],
          [{ ...f32('W', [3, 1], new Float32Array(0)), dataType: 3, rawData: new Uint8Array(Int8Array.of(-81, -80, 127).buffer) }],
        ),
      ),
    );
    const s = await ort.InferenceSession.create(m);
    const y = (await s.run({ A: new ort.Tensor('uint8', Uint8Array.of(210, 198, 234), [1, 3]) })).F!.data as Float32Array;
    const value = y[0]! * 0.0001;
    // -3132 exactly; -3050 = -32768 (saturated 210*-81 + 198*-80) + 234*127 on a saturating kernel.
    expect([-3132, -3050]).toContain(y[0]);
    expect(Math.abs(value - exact)).toBeLessThan(1e-9 + (y[0] === -3050 ? 0.01 : 0));
  });

  it('the default (reduce_range, 7-bit weights) is exact on every CPU: no pair can leave int16', async () => {
    // Weights W / 100 with a 7-bit symmetric scale: |q| <= 64, so |a0*w0 + a1*w1| <= 2 * 255 * 64 < 32767.
    const w = Float32Array.of(-0.81, -0.8, 1.27);
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [1, 3]]], [['Y', 1, [1, 1]]], [f32('W', [3, 1], w)])));
    const q = quantizeDynamic(m);
    expect(q.report.options.reduceRange).toBe(true);
    const x = tensor(Float32Array.of(2.1, 1.98, 2.34), [1, 3]);
    const [a, b] = [await run(m, { X: x }), await run(q.model, { X: x })];
    expect(a.Y![0]).toBeCloseTo(-0.3132, 4);
    // Recompute the integer path in JS (tensor-core's DynamicQuantizeLinear, exact int32 sum, float32 scaling in
    // the emitted order) and require onnxruntime's value bit for bit: no saturation happened.
    const out = decodeModel(q.model);
    const mm = out.graph!.node.find((n) => n.opType === 'MatMulInteger')!;
    const wq = out.graph!.initializer.find((t) => t.name === mm.input[1])!;
    const ws = out.graph!.initializer.find((t) => t.name === out.graph!.node.find((n) => n.opType === 'Mul' && n.input[0]!.endsWith('a_scale'))!.input[1])!;
    const qw = new Int8Array(wq.rawData!.buffer, wq.rawData!.byteOffset, 3);
    expect(Math.max(...Array.from(qw, Math.abs))).toBeLessThanOrEqual(64);
    const d = dynamicQuantizeLinear(Float32Array.of(2.1, 1.98, 2.34));
    let acc = 0;
    for (let i = 0; i < 3; i++) acc += (d.y[i]! - d.zeroPoint) * qw[i]!;
    const wScale = new Float32Array(ws.rawData!.slice().buffer)[0]!;
    const expected = Math.fround(Math.fround(acc) * Math.fround(d.scale * wScale));
    expect(b.Y![0]).toBe(expected);
    expect(Math.abs(a.Y![0]! - b.Y![0]!)).toBeLessThan(0.05);
    const full = quantizeDynamic(m, { reduceRange: false });
    expect(full.report.options.reduceRange).toBe(false);
  });

  it('with reduce_range off the case\'s own integers come back: exact here, or the AVX2 pair-saturated sum, nothing else', async () => {
    // Same weights at full 8-bit range: W / (1.27 / 127) is exactly the case's [-81, -80, 127]. The activations
    // [2.1, 1.98, 2.34] quantize to [229, 216, 255], so the first pair is 229 * -81 + 216 * -80 = -35829, past int16.
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [1, 3]]], [['Y', 1, [1, 1]]], [f32('W', [3, 1], Float32Array.of(-0.81, -0.8, 1.27))])));
    const q = quantizeDynamic(m, { reduceRange: false });
    const out = decodeModel(q.model);
    const mm = out.graph!.node.find((n) => n.opType === 'MatMulInteger')!;
    const wq = out.graph!.initializer.find((t) => t.name === mm.input[1])!;
    const qw = Array.from(new Int8Array(wq.rawData!.slice().buffer));
    expect(qw).toEqual([-81, -80, 127]);
    const ws = out.graph!.initializer.find((t) => t.name === out.graph!.node.find((n) => n.opType === 'Mul' && n.input[0]!.endsWith('a_scale'))!.input[1])!;
    const wScale = new Float32Array(ws.rawData!.slice().buffer)[0]!;
    const d = dynamicQuantizeLinear(Float32Array.of(2.1, 1.98, 2.34));
    expect(Array.from(d.y)).toEqual([229, 216, 255]);
    const a = Array.from(d.y, (v) => v - d.zeroPoint);
    const exact = a[0]! * qw[0]! + a[1]! * qw[1]! + a[2]! * qw[2]!;
    // pmaddubsw: u8 x s8 products added in pairs with int16 saturation, then widened and summed.
    const sat = (v: number) => Math.max(-32768, Math.min(32767, v));
    const saturated = sat(a[0]! * qw[0]! + a[1]! * qw[1]!) + sat(a[2]! * qw[2]!);
    expect(saturated).not.toBe(exact);
    const y = (await run(q.model, { X: tensor(Float32Array.of(2.1, 1.98, 2.34), [1, 3]) })).Y![0]!;
    const scale = Math.fround(d.scale * wScale);
    expect([Math.fround(Math.fround(exact) * scale), Math.fround(Math.fround(saturated) * scale)]).toContain(y);
  });
});
