import { describe, expect, it } from 'vitest';
import { convertFloat16, decodeModel, findWeights, inspectModel, int64, quantizeDynamic, quantizeWeightsInt8, readFloat32, tensorDims, type ModelProto } from '../src';
import { convModel, convTransposeModel, f32, gemmModel, graph, graphAttr, intAttr, matmulModel, model, node, randomFloats, bytes } from './support/build';
import { checkModels, hasChecker, maxAbs, maxAbsDiff, run, tensor, ort } from './support/ort';

function dequantizeNode(m: ModelProto, output: string) {
  return m.graph!.node.find((n) => n.opType === 'DequantizeLinear' && n.output[0] === output)!;
}

function initializer(m: ModelProto, name: string) {
  return m.graph!.initializer.find((t) => t.name === name)!;
}

describe('int8-weight: per-channel axis per op (compression case per-channel-axis-convtranspose)', () => {
  const cases = [
    { what: 'Conv W [Cout, Cin, k, k] -> axis 0', bytes: convModel(3, 8, 3, 6), x: [1, 3, 6, 6], axis: 0, scales: 8 },
    { what: 'ConvTranspose 3 -> 64, W [Cin, Cout, k, k] -> axis 1', bytes: convTransposeModel(3, 64, 3, 5), x: [1, 3, 5, 5], axis: 1, scales: 64 },
    { what: 'Gemm transB 0, B [K, N] -> axis 1', bytes: gemmModel(2, 24, 10, 0), x: [2, 24], axis: 1, scales: 10 },
    { what: 'Gemm transB 1, B [N, K] -> axis 0', bytes: gemmModel(2, 24, 10, 1), x: [2, 24], axis: 0, scales: 10 },
    { what: 'MatMul B [K, N] -> axis 1', bytes: matmulModel(2, 24, 12), x: [2, 24], axis: 1, scales: 12 },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const r = quantizeWeightsInt8(c.bytes);
      const out = decodeModel(r.model);
      const dq = dequantizeNode(out, out.graph!.node.find((n) => n.opType === 'DequantizeLinear')!.output[0]!);
      expect(int64(dq.attribute.find((a) => a.name === 'axis')?.i)).toBe(c.axis);
      const scale = initializer(out, dq.input[1]!);
      expect(tensorDims(scale)).toEqual([c.scales]);
      expect(initializer(out, dq.input[0]!).dataType).toBe(3); // int8
      const weight = r.report.quantized.find((q) => q.shape.length > 1)!;
      expect(weight.axis).toBe(c.axis);
      expect(weight.scales).toBe(c.scales);
      const x = tensor(randomFloats(c.x.reduce((a, b) => a * b, 1), 11), c.x);
      const [ref, got] = [await run(c.bytes, { X: x }), await run(r.model, { X: x })];
      // Symmetric int8 per channel: each weight is off by at most scale/2; the output error stays ~1 % of its range.
      expect(maxAbsDiff(ref.Y!, got.Y!)).toBeLessThan(0.02 * maxAbs(ref.Y!));
      expect(maxAbsDiff(ref.Y!, got.Y!)).toBeGreaterThan(0);
    });
  }

  it('grouped ConvTranspose (group 4): W [Cin, Cout / group, k, k] gets Cout / group scales on axis 1', async () => {
    const w = f32('W', [8, 6, 3, 3], randomFloats(8 * 6 * 9, 5, 0.5));
    const grouped = bytes(model(graph([node('ConvTranspose', ['X', 'W'], ['Y'], [intAttr('group', 4)])], [['X', 1, [1, 8, 5, 5]]], [['Y', 1, [1, 24, 7, 7]]], [w])));
    const r = quantizeWeightsInt8(grouped);
    expect(r.report.quantized.map((q) => [q.name, q.axis, q.scales])).toEqual([['W', 1, 6]]);
    const x = tensor(randomFloats(200, 9), [1, 8, 5, 5]);
    const [ref, got] = [await run(grouped, { X: x }), await run(r.model, { X: x })];
    expect(maxAbsDiff(ref.Y!, got.Y!)).toBeLessThan(0.02 * maxAbs(ref.Y!));
  });

  it('falls back to per-tensor when consumers disagree on the axis', () => {
    const w = f32('W', [8, 8], randomFloats(64, 2));
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['A']), node('Gemm', ['X', 'W'], ['B'], [{ name: 'transB', type: 2, i: 1, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }])], [['X', 1, [1, 8]]], [['A', 1, [1, 8]], ['B', 1, [1, 8]]], [w])));
    const r = quantizeWeightsInt8(m);
    expect(r.report.quantized[0]!.axis).toBeNull();
    expect(r.report.quantized[0]!.scales).toBe(1);
  });
});

describe('int8-weight: weights in Constant nodes and If subgraphs', () => {
  // X -> If(cond) { then: MatMul(X, Wc) with Wc a Constant node; else: Identity(X) }
  const wc = randomFloats(32 * 16, 21);
  const thenG = graph([node('Constant', [], ['Wc'], [{ name: 'value', type: 4, t: f32('', [32, 16], wc), floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }]), node('MatMul', ['X', 'Wc'], ['T'])], [], [['T', 1, [2, 16]]], [], 'then');
  const elseG = graph([node('MatMul', ['X', 'We'], ['E'])], [], [['E', 1, [2, 16]]], [], 'else');
  const mainG = graph(
    [node('If', ['C'], ['Y'], [graphAttr('then_branch', thenG), graphAttr('else_branch', elseG)])],
    [['X', 1, [2, 32]], ['C', 9, []]],
    [['Y', 1, [2, 16]]],
    [f32('We', [32, 16], randomFloats(32 * 16, 22))],
  );
  const original = bytes(model(mainG));

  it('finds and rewrites both, keeping each subgraph valid, and both branches run', async () => {
    const r = quantizeWeightsInt8(original);
    expect(r.report.quantized.map((q) => [q.location, q.graph])).toEqual(
      expect.arrayContaining([['initializer', 'main'], ['constant', 'main/If_Y.then_branch']]),
    );
    const left = findWeights(decodeModel(r.model)).filter((w) => w.tensor.dataType === 1 && w.bytes > 1024);
    expect(left).toEqual([]);
    const x = tensor(randomFloats(64, 5), [2, 32]);
    for (const c of [true, false]) {
      const feeds = { X: x, C: new ort.Tensor('bool', [c], []) };
      const [ref, got] = [await run(original, feeds), await run(r.model, feeds)];
      expect(maxAbsDiff(ref.Y!, got.Y!)).toBeLessThan(0.02 * maxAbs(ref.Y!));
    }
  });

  it.skipIf(!hasChecker)('every variant passes onnx.checker.check_model', () => {
    const variants = {
      conv: quantizeWeightsInt8(convModel(3, 8, 3, 6)).model,
      convTranspose: quantizeWeightsInt8(convTransposeModel(3, 64, 3, 5)).model,
      gemm0: quantizeWeightsInt8(gemmModel(2, 24, 10, 0)).model,
      gemm1: quantizeWeightsInt8(gemmModel(2, 24, 10, 1), { dtype: 'uint8' }).model,
      matmulPerTensor: quantizeWeightsInt8(matmulModel(2, 24, 12), { perChannel: false }).model,
      ifSubgraph: quantizeWeightsInt8(original).model,
    };
    expect(checkModels(variants)).toEqual(Object.fromEntries(Object.keys(variants).map((k) => [k, ''])));
  });
});

describe('weights-in-constant-nodes / weights-inside-subgraphs neighbours', () => {
  const floatsAttr = (name: string, values: number[]) => ({ name, type: 6, floats: values, ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] });
  const tensorAttr = (t: ReturnType<typeof f32>) => ({ name: 'value', type: 4, t, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] });

  it('a 4 KiB weight spelled as Constant value_floats is found, reported and quantized (it was left float32 without a word)', async () => {
    const w = Array.from(randomFloats(1024, 3));
    const m = bytes(model(graph([node('Constant', [], ['W'], [floatsAttr('value_floats', w)]), node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [2, 1024]]], [['Y', 1, [2]]]), 17));
    expect(inspectModel(m).weightLocations.constant).toMatchObject({ tensors: 1, bytes: 4096 });
    const r = quantizeWeightsInt8(m);
    expect(r.report.quantized.map((q) => [q.name, q.location, q.shape, q.bytesBefore])).toEqual([['W', 'constant', [1024], 4096]]);
    expect(r.model.length).toBeLessThan(0.35 * m.length);
    expect(findWeights(decodeModel(r.model)).filter((x) => x.tensor.dataType === 1 && x.bytes > 1024)).toEqual([]);
    const x = tensor(randomFloats(2048, 4), [2, 1024]);
    const [ref, got] = [await run(m, { X: x }), await run(r.model, { X: x })];
    expect(maxAbsDiff(ref.Y!, got.Y!)).toBeLessThan(0.02 * maxAbs(ref.Y!));
  });

  // If { Loop { If { MatMul(Wi: Constant) | MatMul(Wi2: subgraph initializer) }; MatMul(Wb: Constant) } } | Identity
  const innerThen = graph([node('Constant', [], ['Wi'], [tensorAttr(f32('', [32, 32], randomFloats(1024, 31)))]), node('MatMul', ['Xl', 'Wi'], ['Ti'])], [], [['Ti', 1, [2, 32]]], [], 'innerThen');
  const innerElse = graph([node('MatMul', ['Xl', 'Wi2'], ['Ei'])], [], [['Ei', 1, [2, 32]]], [f32('Wi2', [32, 32], randomFloats(1024, 32))], 'innerElse');
  const body = graph(
    [
      node('Identity', ['cond_in'], ['cond_out']),
      node('If', ['C'], ['Xl2'], [graphAttr('then_branch', innerThen), graphAttr('else_branch', innerElse)]),
      node('Constant', [], ['Wb'], [tensorAttr(f32('', [32, 32], randomFloats(1024, 33)))]),
      node('MatMul', ['Xl2', 'Wb'], ['Xl_out']),
    ],
    [['iter', 7, []], ['cond_in', 9, []], ['Xl', 1, [2, 32]]],
    [['cond_out', 9, []], ['Xl_out', 1, [2, 32]]],
    [],
    'body',
  );
  const outerThen = graph([node('Loop', ['N', '', 'X'], ['L'], [graphAttr('body', body)])], [], [['L', 1, [2, 32]]], [], 'outerThen');
  const outerElse = graph([node('Identity', ['X'], ['O'])], [], [['O', 1, [2, 32]]], [], 'outerElse');
  const trip = { ...f32('N', [], new Float32Array(0)), dataType: 7, rawData: new Uint8Array(BigInt64Array.of(2n).buffer) };
  const nested = bytes(model(graph([node('If', ['C'], ['Y'], [graphAttr('then_branch', outerThen), graphAttr('else_branch', outerElse)])], [['X', 1, [2, 32]], ['C', 9, []]], [['Y', 1, [2, 32]]], [trip]), 17));

  it('weights three subgraphs deep (If > Loop > If), in Constant nodes and subgraph initializers, are all rewritten', async () => {
    const r = quantizeWeightsInt8(nested);
    expect(r.report.quantized.map((q) => [q.name, q.location, q.graph]).sort()).toEqual([
      ['main/If_Y.then_branch/Loop_L.body/If_Xl2.else_branch:Wi2', 'initializer', 'main/If_Y.then_branch/Loop_L.body/If_Xl2.else_branch'],
      ['main/If_Y.then_branch/Loop_L.body/If_Xl2.then_branch:Wi', 'constant', 'main/If_Y.then_branch/Loop_L.body/If_Xl2.then_branch'],
      ['main/If_Y.then_branch/Loop_L.body:Wb', 'constant', 'main/If_Y.then_branch/Loop_L.body'],
    ]);
    expect(findWeights(decodeModel(r.model)).filter((w) => w.tensor.dataType === 1 && w.bytes > 1024)).toEqual([]);
    const variants = { int8: r.model, fp16: convertFloat16(nested).model, dynamic: quantizeDynamic(nested).model };
    expect(quantizeDynamic(nested).report.rewritten).toHaveLength(3);
    const x = tensor(randomFloats(64, 5, 0.3), [2, 32]);
    for (const c of [true, false]) {
      const feeds = { X: x, C: new ort.Tensor('bool', [c], []) };
      const ref = await run(nested, feeds);
      for (const [name, v] of Object.entries(variants)) {
        const got = await run(v, feeds);
        expect(maxAbsDiff(ref.Y!, got.Y!), `${name} cond ${c}`).toBeLessThanOrEqual(0.03 * maxAbs(ref.Y!));
      }
    }
    if (hasChecker) expect(checkModels(variants)).toEqual({ int8: '', fp16: '', dynamic: '' });
  });
});

describe('int8-weight: values', () => {
  it('quantizes symmetric per channel: max error per weight <= scale / 2', () => {
    const r = quantizeWeightsInt8(convModel(3, 8, 3, 6));
    const q = r.report.quantized.find((t) => t.name === 'W')!;
    const w = readFloat32(decodeModel(convModel(3, 8, 3, 6)).graph!.initializer[0]!);
    const maxScale = maxAbs(w) / 127;
    expect(q.maxAbsError).toBeGreaterThan(0);
    expect(q.maxAbsError).toBeLessThanOrEqual(maxScale / 2 + 1e-7);
    expect(q.bytesAfter).toBe(8 * 3 * 9 + 8 * 4 + 8);
  });
});

describe('int8-weight: LSTM', () => {
  // X [seq 4, batch 1, input 8], hidden 16: W [1, 64, 8], R [1, 64, 16], B [1, 128].
  const lstm = bytes(
    model(
      graph(
        [node('LSTM', ['X', 'W', 'R', 'B'], ['Y'], [{ name: 'hidden_size', type: 2, i: 16, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }])],
        [['X', 1, [4, 1, 8]]],
        [['Y', 1, [4, 1, 1, 16]]],
        [f32('W', [1, 64, 8], randomFloats(512, 41, 0.4)), f32('R', [1, 64, 16], randomFloats(1024, 42, 0.4)), f32('B', [1, 128], randomFloats(128, 43, 0.1))],
      ),
    ),
  );

  it('quantizes W and R per gate row (axis 1) and keeps outputs close', async () => {
    const r = quantizeWeightsInt8(lstm);
    const byName = Object.fromEntries(r.report.quantized.map((q) => [q.name, q]));
    expect(byName.W).toMatchObject({ axis: 1, scales: 64 });
    expect(byName.R).toMatchObject({ axis: 1, scales: 64 });
    expect(byName.B).toBeUndefined(); // 128 values, not a weight input: below the 256-value floor
    const x = { X: tensor(randomFloats(32, 44), [4, 1, 8]) };
    const [a, b] = [await run(lstm, x), await run(r.model, x)];
    expect(maxAbsDiff(a.Y!, b.Y!)).toBeLessThan(0.01);
    if (hasChecker) expect(checkModels({ lstm: r.model })).toEqual({ lstm: '' });
  });
});

describe('int8-weight: opset', () => {
  it('raises opset 8 to 13 for per-channel scales when no op changed meaning in between', () => {
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [1, 32]]], [['Y', 1, [1, 8]]], [f32('W', [32, 8], randomFloats(256, 3))]), 8, 3));
    const r = quantizeWeightsInt8(m);
    expect([r.report.opsetBefore, r.report.opsetAfter]).toEqual([8, 13]);
    expect(int64(decodeModel(r.model).irVersion)).toBe(7);
  });

  it('keeps opset 11 and falls back to per-tensor scales when Softmax (changed at 13) is present, and says so', async () => {
    const m = bytes(model(graph([node('MatMul', ['X', 'W'], ['A']), node('Softmax', ['A'], ['Y'])], [['X', 1, [1, 32]]], [['Y', 1, [1, 8]]], [f32('W', [32, 8], randomFloats(256, 3))]), 11, 6));
    const r = quantizeWeightsInt8(m);
    expect(r.report.opsetAfter).toBe(11);
    expect(r.report.quantized[0]!.axis).toBeNull();
    expect(r.report.notes[0]).toMatch(/per-channel scales need opset 13; kept opset 11 .* Softmax/);
    const x = { X: tensor(randomFloats(32, 4), [1, 32]) };
    expect(maxAbsDiff((await run(m, x)).Y!, (await run(r.model, x)).Y!)).toBeLessThan(0.01);
  });

  it('reads a Node Buffer sliced from a shared pool correctly (views honour byteOffset)', () => {
    const m = matmulModel(2, 24, 12);
    const pooled = Buffer.concat([Buffer.alloc(3), Buffer.from(m)]).subarray(3);
    expect(quantizeWeightsInt8(pooled).report.quantized[0]!.maxAbsError).toBeLessThan(0.01);
  });
});
