import { describe, expect, it } from 'vitest';
import { Calibrator, calibrateAndQuantize, calibrationModel, decodeModel, int64, quantizeStatic, readFloat32, type ModelProto, type TensorProto } from '../src';
import { bytes, convTransposeModel, convModel, f32, gemmModel, graph, intAttr, matmulModel, model as modelOf, node, randomFloats } from './support/build';
import { checkModels, createRunner, createWebRunner, hasChecker, maxAbs, maxAbsDiff, ortWeb, run, tensor } from './support/ort';

const init = (m: ModelProto, name: string): TensorProto => m.graph!.initializer.find((t) => t.name === name)!;

function samples(dims: number[], n: number, seed: number) {
  const count = dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => ({ feeds: { X: tensor(randomFloats(count, seed + i), dims) } }));
}

describe('int8-static QDQ (compression case per-channel-axis-convtranspose)', () => {
  const model = convTransposeModel(3, 64, 3, 5);
  const calib = samples([1, 3, 5, 5], 8, 100);

  it('ConvTranspose 3 -> 64: 64 weight scales on axis 1, int32 bias with scale input_scale * weight_scale[c]', async () => {
    const r = await calibrateAndQuantize(model, calib, createRunner);
    const out = decodeModel(r.model);
    const dqs = out.graph!.node.filter((n) => n.opType === 'DequantizeLinear');
    const wdq = dqs.find((n) => n.output[0] === 'W')!;
    const bdq = dqs.find((n) => n.output[0] === 'B')!;
    expect(int64(wdq.attribute.find((a) => a.name === 'axis')!.i)).toBe(1);
    const wScale = readFloat32(init(out, wdq.input[1]!));
    expect(wScale.length).toBe(64);
    expect(init(out, bdq.input[0]!).dataType).toBe(6); // int32
    expect(bdq.input).toHaveLength(2); // no zero point on the int32 bias
    const xdq = dqs.find((n) => n.output[0]!.startsWith('X_dequantized'))!;
    const xScale = readFloat32(init(out, xdq.input[1]!))[0]!;
    const bScale = readFloat32(init(out, bdq.input[1]!));
    expect(Array.from(bScale)).toEqual(Array.from(wScale, (s) => Math.fround(xScale * s)));
    expect(r.report.biases).toEqual([{ name: 'B', scales: 64 }]);
    expect(r.report.calibration).toEqual({ method: 'minmax', samples: 8 });
    const x = samples([1, 3, 5, 5], 1, 999)[0]!.feeds;
    const [a, b] = [await run(model, x), await run(r.model, x)];
    expect(maxAbsDiff(a.Y!, b.Y!)).toBeLessThan(0.03 * maxAbs(a.Y!));
  });

  // Neighbour: group > 1. W is [Cin, Cout / group, k, k], so axis 1 has Cout / group scales, and output channel o
  // is made by weight column o mod (Cout / group): its bias scale is input_scale * weight_scale[o mod (Cout / group)].
  // (The bias was left float32 for every grouped ConvTranspose.)
  it.each([2, 4])('grouped ConvTranspose, group %i: Cout / group weight scales, bias scales tiled over the groups', async (group) => {
    const [cin, perGroup] = [8, 6];
    const cout = perGroup * group;
    const grouped = bytes(
      modelOf(
        graph(
          [node('ConvTranspose', ['X', 'W', 'B'], ['Y'], [intAttr('group', group)])],
          [['X', 1, [1, cin, 5, 5]]],
          [['Y', 1, [1, cout, 7, 7]]],
          [f32('W', [cin, perGroup, 3, 3], randomFloats(cin * perGroup * 9, 5, 0.5)), f32('B', [cout], randomFloats(cout, 6, 0.5))],
        ),
      ),
    );
    const r = await calibrateAndQuantize(grouped, samples([1, cin, 5, 5], 4, 50), createRunner);
    expect(r.report.weights).toEqual([{ name: 'W', axis: 1, scales: perGroup }]);
    expect(r.report.biases).toEqual([{ name: 'B', scales: cout }]);
    const out = decodeModel(r.model);
    const dqs = out.graph!.node.filter((n) => n.opType === 'DequantizeLinear');
    const wScale = readFloat32(init(out, dqs.find((n) => n.output[0] === 'W')!.input[1]!));
    const xScale = readFloat32(init(out, dqs.find((n) => n.output[0]!.startsWith('X_dequantized'))!.input[1]!))[0]!;
    const bdq = dqs.find((n) => n.output[0] === 'B')!;
    expect(Array.from(readFloat32(init(out, bdq.input[1]!)))).toEqual(Array.from({ length: cout }, (_, o) => Math.fround(xScale * wScale[o % perGroup]!)));
    expect(int64(bdq.attribute.find((a) => a.name === 'axis')!.i)).toBe(0);
    const x = samples([1, cin, 5, 5], 1, 999)[0]!.feeds;
    const [a, b] = [await run(grouped, x), await run(r.model, x)];
    expect(maxAbsDiff(a.Y!, b.Y!)).toBeLessThan(0.03 * maxAbs(a.Y!));
    if (hasChecker) expect(checkModels({ grouped: r.model })).toEqual({ grouped: '' });
  });

  it('calibration-ignores-nan, in the optimizer: NaN/Inf in calibration samples leave the ranges finite and are reported', async () => {
    const dirty = samples([1, 3, 5, 5], 8, 100);
    const clean = samples([1, 3, 5, 5], 8, 100);
    (dirty[0]!.feeds.X.data as Float32Array).set([NaN, Infinity], 3);
    (dirty[5]!.feeds.X.data as Float32Array)[40] = -Infinity;
    const r = await calibrateAndQuantize(model, dirty, createRunner);
    const base = await calibrateAndQuantize(model, clean, createRunner);
    // X: exactly the three planted values; Y: whatever ConvTranspose spread them to (each touches up to 9 outputs).
    expect(r.report.calibration.skippedNonFinite!['X']).toBe(3);
    expect(r.report.calibration.skippedNonFinite!['Y']).toBeGreaterThanOrEqual(3 * 64);
    expect(base.report.calibration).toEqual({ method: 'minmax', samples: 8 });
    const x = r.report.activations.find((a) => a.name === 'X')!;
    expect(x).toEqual(base.report.activations.find((a) => a.name === 'X'));
    for (const a of r.report.activations) expect(Number.isFinite(a.scale) && a.scale > 0, a.name).toBe(true);
  });

  it('Conv, Gemm (transB 0 and 1) and MatMul quantize and run on onnxruntime-node and -web', async () => {
    const cases = [
      { m: convModel(3, 8, 3, 6), dims: [1, 3, 6, 6] },
      { m: gemmModel(2, 24, 10, 0), dims: [2, 24] },
      { m: gemmModel(2, 24, 10, 1), dims: [2, 24] },
      { m: matmulModel(2, 24, 12), dims: [2, 24] },
    ];
    for (const c of cases) {
      const r = await calibrateAndQuantize(c.m, samples(c.dims, 6, 7), createRunner, { method: 'percentile' });
      const x = samples(c.dims, 1, 555)[0]!.feeds;
      const [a, b] = [await run(c.m, x), await run(r.model, x)];
      expect(maxAbsDiff(a.Y!, b.Y!)).toBeLessThan(0.04 * maxAbs(a.Y!));
      const web = await (await createWebRunner(r.model)).run({ X: new ortWeb.Tensor('float32', x.X.data as Float32Array, c.dims) });
      expect(maxAbsDiff(web.Y!.data as Float32Array, b.Y!)).toBeLessThan(1e-4 * maxAbs(a.Y!));
    }
  });

  it('per-op exclusions leave the op in float32', async () => {
    const r = await calibrateAndQuantize(gemmModel(2, 24, 10, 1), samples([2, 24], 4, 3), createRunner, { excludeOps: ['Gemm'] });
    expect(r.report.nodes).toEqual([]);
    expect(decodeModel(r.model).graph!.node.map((n) => n.opType)).toEqual(['Gemm']);
  });

  it('rejects ranges that miss an activation, naming it', () => {
    expect(() => quantizeStatic(model, {})).toThrow(/no calibrated range for activation "X"/);
  });

  it('calibration model exposes the activations as outputs; the calibrator names a missing one', async () => {
    const c = calibrationModel(model);
    expect(c.tensors).toEqual(['X', 'Y']);
    const cal = new Calibrator(c.tensors, { method: 'entropy' });
    expect(() => cal.observe({ X: { data: new Float32Array(3) } })).toThrow(/lack tensor "Y"/);
  });

  it.skipIf(!hasChecker)('variants pass onnx.checker.check_model', async () => {
    const v = {
      convTranspose: (await calibrateAndQuantize(model, calib, createRunner)).model,
      conv: (await calibrateAndQuantize(convModel(3, 8, 3, 6), samples([1, 3, 6, 6], 4, 1), createRunner, { method: 'mse' })).model,
      gemm: (await calibrateAndQuantize(gemmModel(2, 24, 10, 1), samples([2, 24], 4, 1), createRunner, { activationType: 'int8' })).model,
    };
    expect(checkModels(v)).toEqual({ convTranspose: '', conv: '', gemm: '' });
  });
});
