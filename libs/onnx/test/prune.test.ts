import { describe, expect, it } from 'vitest';
import { decodeModel, pruneInPlace, pruneWeights, readFloat32, tensorDims } from '../src';
import { bytes, convModel, f32, graph, i64, intAttr, ints, model, node, randomFloats } from './support/build';
import { checkModels, hasChecker, maxAbs, maxAbsDiff, run, tensor } from './support/ort';

describe('prune', () => {
  it('zeroes exactly round(s * n) smallest magnitudes, ties broken by position', () => {
    const x = Float32Array.of(0.5, -0.1, 0.1, 3, -2, 0.1, NaN, 0);
    const t = pruneInPlace(x, 0.5);
    expect(Array.from(x)).toEqual([0.5, 0, 0, 3, -2, 0, NaN, 0]);
    expect(t).toBeCloseTo(0.1, 6);
  });

  it('reports the achieved sparsity per tensor and leaves the bias dense', async () => {
    const m = convModel(3, 8, 3, 6);
    const r = pruneWeights(m, { sparsity: 0.6 });
    expect(r.report.tensors.map((t) => [t.name, t.elements, t.sparsity])).toEqual([['W', 216, Math.round(0.6 * 216) / 216]]);
    const out = decodeModel(r.model);
    const w = readFloat32(out.graph!.initializer.find((t) => t.name === 'W')!);
    expect(w.filter((v) => v === 0).length).toBe(Math.round(0.6 * 216));
    expect(readFloat32(out.graph!.initializer.find((t) => t.name === 'B')!).every((v) => v !== 0)).toBe(true);
    const x = { X: tensor(randomFloats(108, 2), [1, 3, 6, 6]) };
    const y = (await run(r.model, x)).Y!;
    expect(maxAbs(y)).toBeGreaterThan(0);
  });

  it('rejects a sparsity outside [0, 1), naming it', () => {
    expect(() => pruneWeights(convModel(3, 8, 3, 6), { sparsity: 1 })).toThrow(/sparsity is 1; expected a number in \[0, 1\)/);
  });
});

describe('prune, structured (mode channels)', () => {
  // Conv 3 -> 8 (+bias) -> Relu -> MaxPool -> Add per-channel [8,1,1] -> Conv 8 -> 4 (+bias).
  const w1 = randomFloats(8 * 3 * 9, 51, 0.5);
  // Scale filters so the L2 norms differ clearly: filter c is multiplied by (c % 4 + 1) * (c < 4 ? 1 : 0.1).
  for (let c = 0; c < 8; c++) for (let i = 0; i < 27; i++) w1[c * 27 + i]! *= ((c % 4) + 1) * (c < 4 ? 1 : 0.1);
  const w2 = randomFloats(4 * 8 * 9, 52, 0.5);
  const cnn = (second: Float32Array) =>
    bytes(
      model(
        graph(
          [
            node('Conv', ['X', 'W1', 'B1'], ['C1'], [ints('pads', [1, 1, 1, 1])]),
            node('Relu', ['C1'], ['R1']),
            node('MaxPool', ['R1'], ['P1'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]),
            node('Add', ['P1', 'K'], ['A1']),
            node('Conv', ['A1', 'W2', 'B2'], ['Y'], [ints('pads', [1, 1, 1, 1])]),
          ],
          [['X', 1, [1, 3, 8, 8]]],
          [['Y', 1, [1, 4, 4, 4]]],
          [f32('W1', [8, 3, 3, 3], w1), f32('B1', [8], randomFloats(8, 53, 0.1)), f32('K', [8, 1, 1], randomFloats(8, 54, 0.2)), f32('W2', [4, 8, 3, 3], second), f32('B2', [4], randomFloats(4, 55, 0.1))],
        ),
      ),
    );
  const original = cnn(w2);

  it('removes the channels with the smallest filter norms from producer, bias, per-channel constants and consumer', async () => {
    const r = pruneWeights(original, { sparsity: 0.5, mode: 'channels' });
    expect(r.report.channels).toHaveLength(1);
    const pair = r.report.channels[0]!;
    // Filters 4..7 were scaled by 0.1..0.4: the four smallest norms.
    expect(pair).toMatchObject({ producer: 'Conv_C1', consumer: 'Conv_Y', between: ['Relu', 'MaxPool', 'Add'], channelsBefore: 8, channelsAfter: 4, removed: [4, 5, 6, 7] });
    expect(pair.tensors).toEqual([
      { name: 'W1', shape: [4, 3, 3, 3] },
      { name: 'B1', shape: [4] },
      { name: 'K', shape: [4, 1, 1] },
      { name: 'W2', shape: [4, 4, 3, 3] },
    ]);
    // 4 of 8 filters of W1 (108 of 216), biases and K (4 + 4 of 16) and half of W2's inputs (144 of 288).
    expect(r.report.overallSparsity).toBeCloseTo((108 + 4 + 4 + 144) / (216 + 8 + 8 + 288), 12);
    const out = decodeModel(r.model);
    const kept = readFloat32(out.graph!.initializer.find((t) => t.name === 'W1')!);
    expect(Array.from(kept)).toEqual(Array.from(w1.subarray(0, 4 * 27)));
    // Exactly the original with the consumer's input slices of the removed channels set to zero.
    const zeroed = Float32Array.from(w2);
    for (let o = 0; o < 4; o++) for (const c of pair.removed) zeroed.fill(0, (o * 8 + c) * 9, (o * 8 + c + 1) * 9);
    const x = { X: tensor(randomFloats(192, 56), [1, 3, 8, 8]) };
    const [want, got, full] = [(await run(cnn(zeroed), x)).Y!, (await run(r.model, x)).Y!, (await run(original, x)).Y!];
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    expect(maxAbsDiff(got, full)).toBeGreaterThan(1e-3);
  });

  it('prunes MatMul -> Add -> Relu -> Gemm (transB 1) along the feature axis', async () => {
    const a = randomFloats(16 * 12, 61, 0.5);
    const b = randomFloats(5 * 12, 62, 0.5);
    const mlp = (second: Float32Array) =>
      bytes(
        model(
          graph(
            [node('MatMul', ['X', 'A'], ['H']), node('Add', ['H', 'Ab'], ['Hb']), node('Relu', ['Hb'], ['R']), node('Gemm', ['R', 'B', 'C'], ['Y'], [intAttr('transB', 1)])],
            [['X', 1, [2, 16]]],
            [['Y', 1, [2, 5]]],
            [f32('A', [16, 12], a), f32('Ab', [12], randomFloats(12, 63, 0.1)), f32('B', [5, 12], second), f32('C', [5], randomFloats(5, 64, 0.1))],
          ),
        ),
      );
    const r = pruneWeights(mlp(b), { sparsity: 0.25, mode: 'channels' });
    const pair = r.report.channels[0]!;
    expect(pair.channelsAfter).toBe(9);
    expect(pair.tensors).toEqual([
      { name: 'A', shape: [16, 9] },
      { name: 'Ab', shape: [9] },
      { name: 'B', shape: [5, 9] },
    ]);
    // The removed columns of A are the three with the smallest L2 norm.
    const norms = Array.from({ length: 12 }, (_, c) => Math.hypot(...Array.from({ length: 16 }, (_, k) => a[k * 12 + c]!)));
    expect(pair.removed).toEqual(Array.from(norms.keys()).sort((p, q) => norms[p]! - norms[q]!).slice(0, 3).sort((p, q) => p - q));
    const zeroed = Float32Array.from(b);
    for (let n = 0; n < 5; n++) for (const c of pair.removed) zeroed[n * 12 + c] = 0;
    const x = { X: tensor(randomFloats(32, 65), [2, 16]) };
    expect(maxAbsDiff((await run(r.model, x)).Y!, (await run(mlp(zeroed), x)).Y!)).toBeLessThan(1e-5);
  });

  it('leaves unsafe producers alone and says why', () => {
    // Conv -> Reshape to two rows per sample -> MatMul (channel blocks straddle rows) and a Conv output read twice.
    const m = bytes(
      model(
        graph(
          [
            node('Conv', ['X', 'W'], ['C']),
            node('Reshape', ['C', 'S'], ['F']),
            node('MatMul', ['F', 'M'], ['Y']),
            node('Conv', ['X', 'W3'], ['D']),
            node('Relu', ['D'], ['Z1']),
            node('Sigmoid', ['D'], ['Z2']),
          ],
          [['X', 1, [1, 2, 3, 3]]],
          [['Y', 1, [2, 4]], ['Z1', 1, [1, 4, 3, 3]], ['Z2', 1, [1, 4, 3, 3]]],
          [f32('W', [4, 2, 1, 1], randomFloats(8, 71)), i64('S', [2, 18]), f32('M', [18, 4], randomFloats(72, 72)), f32('W3', [4, 2, 1, 1], randomFloats(8, 73))],
        ),
      ),
    );
    const r = pruneWeights(m, { sparsity: 0.5, mode: 'channels' });
    expect(r.report.channels).toEqual([]);
    expect(r.report.overallSparsity).toBe(0);
    expect(r.report.notes).toEqual(expect.arrayContaining(['Conv_C: Reshape Reshape_F of "C" [N, 4, 3, 3] to [2, 18] is not [N, C*H*W] (36 features a row)', 'Conv_D: "D" has 2 readers', 'MatMul_Y: "Y" is a graph output']));
    const before = decodeModel(m).graph!.initializer.map((t) => tensorDims(t));
    expect(decodeModel(r.model).graph!.initializer.map((t) => tensorDims(t))).toEqual(before);
  });

  it('rejects an unknown mode, naming it', () => {
    expect(() => pruneWeights(original, { sparsity: 0.5, mode: 'rows' as never })).toThrow(/prune mode is "rows"; expected "unstructured" or "channels"/);
  });

  it.skipIf(!hasChecker)('passes onnx.checker.check_model', () => {
    expect(checkModels({ channels: pruneWeights(original, { sparsity: 0.5, mode: 'channels' }).model })).toEqual({ channels: '' });
  });
});
