import { describe, expect, it } from 'vitest';
import { calibrateAndQuantize, convertFloat16, pruneWeights, quantizeDynamic, quantizeWeightsInt8, type Sample } from '../src';
import { bytes, convModel, convTransposeModel, f32, gemmModel, graph, graphAttr, intAttr, ints, matmulModel, model, node, randomFloats } from './support/build';
import { checkModels, createRunner, createWebRunner, hasChecker, maxAbs, maxAbsDiff, ort, ortWeb } from './support/ort';

// Proof of "each pass produces a model that loads and runs on onnxruntime-node and onnxruntime-web and passes
// onnx.checker": every pass on every small graph the issue names (Conv, ConvTranspose, Gemm transB 0 and 1,
// MatMul, LSTM, If), plus Conv -> Relu -> Conv so that structured pruning has a pair to cut.

interface Fixture {
  bytes: Uint8Array;
  inputs: Record<string, [dims: number[], kind: 'float' | 'bool']>;
}

function lstmModel(): Uint8Array {
  return bytes(
    model(
      graph(
        [node('LSTM', ['X', 'W', 'R', 'B'], ['Y'], [intAttr('hidden_size', 16)])],
        [['X', 1, [4, 1, 8]]],
        [['Y', 1, [4, 1, 1, 16]]],
        [f32('W', [1, 64, 8], randomFloats(512, 41, 0.4)), f32('R', [1, 64, 16], randomFloats(1024, 42, 0.4)), f32('B', [1, 128], randomFloats(128, 43, 0.1))],
      ),
    ),
  );
}

function ifModel(): Uint8Array {
  const thenG = graph([node('MatMul', ['X', 'Wt'], ['T'])], [], [['T', 1, [2, 16]]], [f32('Wt', [32, 16], randomFloats(512, 21))], 'then');
  const elseG = graph([node('Gemm', ['X', 'We'], ['E'], [intAttr('transB', 1)])], [], [['E', 1, [2, 16]]], [f32('We', [16, 32], randomFloats(512, 22))], 'else');
  // A MatMul in the main graph feeds the If, so int8-static has an op to quantize here too.
  return bytes(
    model(
      graph(
        [node('MatMul', ['In', 'Wm'], ['X']), node('If', ['C'], ['Y'], [graphAttr('then_branch', thenG), graphAttr('else_branch', elseG)])],
        [['In', 1, [2, 32]], ['C', 9, []]],
        [['Y', 1, [2, 16]]],
        [f32('Wm', [32, 32], randomFloats(1024, 23, 0.3))],
      ),
    ),
  );
}

function convChainModel(): Uint8Array {
  return bytes(
    model(
      graph(
        [node('Conv', ['X', 'W1', 'B1'], ['C1'], [ints('pads', [1, 1, 1, 1])]), node('Relu', ['C1'], ['R1']), node('Conv', ['R1', 'W2', 'B2'], ['Y'], [ints('pads', [1, 1, 1, 1])])],
        [['X', 1, [1, 3, 6, 6]]],
        [['Y', 1, [1, 4, 6, 6]]],
        [f32('W1', [8, 3, 3, 3], randomFloats(216, 81, 0.5)), f32('B1', [8], randomFloats(8, 82, 0.1)), f32('W2', [4, 8, 3, 3], randomFloats(288, 83, 0.5)), f32('B2', [4], randomFloats(4, 84, 0.1))],
      ),
    ),
  );
}

const FIXTURES: Record<string, Fixture> = {
  conv: { bytes: convModel(3, 8, 3, 6), inputs: { X: [[1, 3, 6, 6], 'float'] } },
  convTranspose: { bytes: convTransposeModel(3, 64, 3, 5), inputs: { X: [[1, 3, 5, 5], 'float'] } },
  gemmTransB0: { bytes: gemmModel(2, 24, 10, 0), inputs: { X: [[2, 24], 'float'] } },
  gemmTransB1: { bytes: gemmModel(2, 24, 10, 1), inputs: { X: [[2, 24], 'float'] } },
  matmul: { bytes: matmulModel(2, 24, 12), inputs: { X: [[2, 24], 'float'] } },
  lstm: { bytes: lstmModel(), inputs: { X: [[4, 1, 8], 'float'] } },
  if: { bytes: ifModel(), inputs: { In: [[2, 32], 'float'], C: [[], 'bool'] } },
  convChain: { bytes: convChainModel(), inputs: { X: [[1, 3, 6, 6], 'float'] } },
};

type Tensors = typeof ort | typeof ortWeb;

function feeds(f: Fixture, seed: number, t: Tensors): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, [dims, kind]] of Object.entries(f.inputs)) {
    const n = dims.reduce((a, b) => a * b, 1);
    out[name] = (kind === 'bool' ? new t.Tensor('bool', [seed % 2 === 0], dims) : new t.Tensor('float32', randomFloats(n, seed), dims)) as ort.Tensor;
  }
  return out;
}

type Pass = (f: Fixture) => Promise<Uint8Array>;
const PASSES: Record<string, [Pass, number]> = {
  // [pass, largest |variant - fp32| on onnxruntime-node as a fraction of max |fp32|]
  'int8-weight': [async (f) => quantizeWeightsInt8(f.bytes).model, 0.03],
  'int8-dynamic': [async (f) => quantizeDynamic(f.bytes).model, 0.06],
  'int8-static': [
    async (f) => {
      const calib: Sample[] = Array.from({ length: 6 }, (_, i) => ({ feeds: feeds(f, 300 + i, ort) }));
      return (await calibrateAndQuantize(f.bytes, calib, createRunner)).model;
    },
    0.06,
  ],
  fp16: [async (f) => convertFloat16(f.bytes).model, 0.005],
  // Pruning half the weights changes outputs by design: only loading, running and platform agreement are checked.
  prune: [async (f) => pruneWeights(f.bytes, { sparsity: 0.5 }).model, Infinity],
  'prune-channels': [async (f) => pruneWeights(f.bytes, { sparsity: 0.5, mode: 'channels' }).model, Infinity],
};

describe('every pass x every small graph: onnxruntime-node, onnxruntime-web, onnx.checker', () => {
  const built: Record<string, Uint8Array> = {};

  for (const [fname, f] of Object.entries(FIXTURES)) {
    it(fname, async () => {
      const ref = await (await createRunner(f.bytes)).run(feeds(f, 900, ort));
      for (const [pname, [pass, tolerance]] of Object.entries(PASSES)) {
        const variant = await pass(f);
        built[`${fname}/${pname}`] = variant;
        const node = await (await createRunner(variant)).run(feeds(f, 900, ort));
        const basic = await (await ort.InferenceSession.create(variant, { graphOptimizationLevel: 'basic' })).run(feeds(f, 900, ort));
        const web = await (await createWebRunner(variant)).run(feeds(f, 900, ortWeb));
        for (const out of Object.keys(ref)) {
          const [r, n, w] = [ref[out]!.data as Float32Array, node[out]!.data as Float32Array, web[out]!.data as Float32Array];
          const b = basic[out]!.data as Float32Array;
          const label = `${fname} ${pname} ${out}`;
          expect(n.length, label).toBe(r.length);
          expect(n.every(Number.isFinite), label).toBe(true);
          expect(maxAbsDiff(n, r), label).toBeLessThanOrEqual(tolerance * maxAbs(r));
          // Same model, two runtimes, both keeping the QDQ graph as written (see the next describe for why node's
          // default level is not compared here): the kernels differ only in float rounding.
          expect(maxAbsDiff(w, b), `${label} web vs node (basic)`).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(b)));
          expect(maxAbsDiff(w, r), `${label} web vs fp32`).toBeLessThanOrEqual(tolerance * maxAbs(r));
        }
      }
    });
  }

  it('structured pruning cut the Conv -> Relu -> Conv pair and nothing else', () => {
    const r = pruneWeights(FIXTURES.convChain!.bytes, { sparsity: 0.5, mode: 'channels' });
    expect(r.report.channels.map((c) => [c.producer, c.consumer, c.channelsAfter])).toEqual([['Conv_C1', 'Conv_Y', 4]]);
  });

  it.skipIf(!hasChecker)('every variant passes onnx.checker.check_model', () => {
    expect(Object.keys(built)).toHaveLength(Object.keys(FIXTURES).length * Object.keys(PASSES).length);
    expect(checkModels(built)).toEqual(Object.fromEntries(Object.keys(built).map((k) => [k, ''])));
  });
});

describe('int8-weight MatMul: onnxruntime-node rewrites DequantizeLinear -> MatMul at level extended/all', () => {
  // Measured finding, onnxruntime-node 1.30 CPU: from graphOptimizationLevel 'extended' a weight DequantizeLinear
  // feeding MatMul is fused into a kernel that also quantizes the activations at run time, so the same variant
  // computes differently on the server (default 'all') and in the browser (onnxruntime-web keeps the QDQ graph).
  // Both stay within int8 error of fp32; a variant that must match across platforms bit for bit needs 'basic'.
  it('basic and onnxruntime-web compute DequantizeLinear then MatMul exactly; node at all differs', async () => {
    const m = matmulModel(2, 24, 12);
    const q = quantizeWeightsInt8(m);
    const w = q.report.quantized[0]!;
    expect(w.axis).toBe(1);
    const x = randomFloats(48, 900);
    const out = async (level: 'basic' | 'all', t: Tensors) =>
      (await (await (t === ort ? ort : ortWeb).InferenceSession.create(q.model, { graphOptimizationLevel: level })).run({ X: new t.Tensor('float32', x, [2, 24]) as ort.Tensor })).Y!.data as Float32Array;
    // X @ dequantize(W) with each dequantized weight rounded to float32 as DequantizeLinear outputs it.
    const g = q.proto.graph!;
    const qi = g.initializer.find((t) => t.dataType === 3)!;
    const scale = g.initializer.find((t) => t.name === `${w.name}_scale`)!;
    const qw = new Int8Array(Uint8Array.from(qi.rawData!).buffer);
    const sc = new Float32Array(Uint8Array.from(scale.rawData!).buffer);
    const exact = new Float32Array(24);
    for (let r = 0; r < 2; r++) for (let n = 0; n < 12; n++) for (let k = 0; k < 24; k++) exact[r * 12 + n] += x[r * 24 + k]! * Math.fround(qw[k * 12 + n]! * sc[n]!);
    expect(maxAbsDiff(await out('basic', ort), exact)).toBeLessThan(1e-6);
    expect(maxAbsDiff(await out('all', ortWeb), exact)).toBeLessThan(1e-6);
    const fused = maxAbsDiff(await out('all', ort), exact);
    expect(fused).toBeGreaterThan(1e-4);
    expect(fused).toBeLessThan(0.02 * maxAbs(exact));
  });
});
