import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { softmax, transpose, type Tensor } from '@lepton/tensor-core';
import type { ModelManifestInput, PipelineStep } from '@lepton/contracts';
import { createModelRunner, createPredictor } from '../src';
import { ort } from './support/model';

// The manifest's tensor steps run by the predictor on a real onnxruntime-node session: an NCHW Conv model fed NHWC
// uint8 pixels through cast -> affine (/255) -> transpose, its logits through softmax. The proof is the same model
// fed the same pixels converted by hand (tensor-core's kernels, called directly): bit-identical outputs.
const { onnx } = onnxProto;

/** Conv 3 -> 2 channels, 1x1 kernel, seeded weights, on [1, 3, 4, 4] float32; output [1, 2, 4, 4]. */
function convModel(): Uint8Array {
  const w = Float32Array.from({ length: 6 }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
  const vi = (name: string, shape: number[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: shape.map((d) => ({ dimValue: d })) } } } });
  const graph = onnx.GraphProto.create({
    name: 'conv',
    node: [onnx.NodeProto.create({ opType: 'Conv', input: ['x', 'w'], output: ['y'], name: 'conv' })],
    initializer: [onnx.TensorProto.create({ name: 'w', dataType: 1, dims: [2, 3, 1, 1], rawData: new Uint8Array(w.buffer) })],
    input: [vi('x', [1, 3, 4, 4])],
    output: [vi('y', [1, 2, 4, 4])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

const NHWC_TO_NCHW: PipelineStep[] = [
  { op: 'cast', input: 'x', to: 'float32' },
  { op: 'affine', input: 'x', c: 255, d: 1, e: 0 },
  { op: 'transpose', input: 'x', perm: [0, 3, 1, 2] },
];

function manifest(preprocess: PipelineStep[], postprocess: PipelineStep[] = []): ModelManifestInput {
  return {
    id: 'conv',
    name: 'conv',
    version: '1',
    task: 'generic',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 4, 4], layout: 'NCHW' }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 4, 4] }],
    preprocess,
    postprocess,
  };
}

const pixels = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) % 256);
const nhwc: Tensor = { dtype: 'uint8', shape: [1, 4, 4, 3], data: pixels };

describe('manifest tensor steps (preprocess / postprocess) in the predictor', () => {
  it('cast -> affine -> transpose turns NHWC uint8 into the NCHW float32 the model takes, bit for bit as by hand; softmax after', async () => {
    const model = convModel();
    const piped = await createPredictor({ manifest: manifest(NHWC_TO_NCHW, [{ op: 'softmax', output: 'y', axis: 1 }]), model, ort });
    const plain = await createPredictor({ manifest: manifest([]), model, ort });
    const byHand = transpose(Float32Array.from(pixels, (p) => Math.fround(p / 255)), [1, 4, 4, 3], [0, 3, 1, 2]);
    const expected = (await plain.run({ x: { dtype: 'float32', shape: [1, 3, 4, 4], data: byHand } })).y!;
    const got = (await piped.run({ x: nhwc })).y!;
    expect(got.shape).toEqual([1, 2, 4, 4]);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(softmax(expected.data as Float32Array, [1, 2, 4, 4], 1)));
    // prepare() is what the model got: the digest parity hashes.
    expect(Array.from(piped.prepare({ x: nhwc }).x!.data as Float32Array)).toEqual(Array.from(byHand));
    // Softmax over the channel axis: each pixel's two probabilities sum to 1.
    const p = got.data as Float32Array;
    for (let i = 0; i < 16; i++) expect(p[i]! + p[16 + i]!).toBeCloseTo(1, 6);
    await Promise.all([piped.release(), plain.release()]);
  });

  it('normalize with per-channel mean/std equals (x - mean[c]) / std[c] in float32', async () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const model = convModel();
    const piped = await createPredictor({ manifest: manifest([...NHWC_TO_NCHW, { op: 'normalize', input: 'x', mean, std }]), model, ort });
    const fed = piped.prepare({ x: nhwc }).x!.data as Float32Array;
    const nchw = transpose(Float32Array.from(pixels, (p) => Math.fround(p / 255)), [1, 4, 4, 3], [0, 3, 1, 2]);
    const want = Float32Array.from(nchw, (v, i) => {
      const c = Math.floor(i / 16);
      return Math.fround(v - Math.fround(mean[c]!)) / Math.fround(std[c]!);
    });
    expect(Array.from(fed)).toEqual(Array.from(want));
    await piped.release();
  });

  it('the batcher preprocesses each request before it joins a batch', async () => {
    const model = convModel();
    const m = { ...manifest(NHWC_TO_NCHW), inputs: [{ name: 'x', dtype: 'float32' as const, shape: ['batch', 3, 4, 4], maxShape: [8, 3, 4, 4] }], outputs: [{ name: 'y', dtype: 'float32' as const, shape: ['batch', 2, 4, 4] }] };
    const predictors = [await createPredictor({ manifest: m, model: convModelBatch(), ort })];
    const runner = createModelRunner({ predictors, batching: { maxBatchSize: 4, maxQueueDelayMs: 5 } });
    const plain = await createPredictor({ manifest: manifest([]), model, ort });
    const byHand = transpose(Float32Array.from(pixels, (p) => Math.fround(p / 255)), [1, 4, 4, 3], [0, 3, 1, 2]);
    const expected = (await plain.run({ x: { dtype: 'float32', shape: [1, 3, 4, 4], data: byHand } })).y!;
    const answers = await Promise.all([runner.run({ x: nhwc }), runner.run({ x: nhwc })]);
    for (const a of answers) expect(Array.from(a.y!.data as Float32Array)).toEqual(Array.from(expected.data as Float32Array));
    await runner.release();
    await plain.release();
  });

  it('a tensor that does not fit after the steps names both shapes; wrong dtypes and bad steps are typed errors', async () => {
    const model = convModel();
    const piped = await createPredictor({ manifest: manifest(NHWC_TO_NCHW), model, ort });
    // NCHW given where the manifest converts from NHWC: after transpose it is [1, 4, 3, 4].
    const nchwGiven: Tensor = { dtype: 'uint8', shape: [1, 3, 4, 4], data: pixels };
    await expect(piped.run({ x: nchwGiven })).rejects.toMatchObject({
      code: 'TENSOR_SHAPE_MISMATCH',
      message: expect.stringMatching(/\[1, 4, 3, 4\].* \(after the manifest's preprocess cast to float32 -> affine -> transpose \[0, 3, 1, 2\] on input 'x', which was given as uint8 \[1, 3, 4, 4\]\)$/),
    });
    const noCast = await createPredictor({ manifest: manifest(NHWC_TO_NCHW.slice(1)), model, ort });
    await expect(noCast.run({ x: nhwc })).rejects.toMatchObject({ code: 'PIPELINE_INVALID', message: expect.stringContaining("needs float32 data; got uint8 [1, 4, 4, 3] (put a cast step to float32 before it)") });
    const badPerm = await createPredictor({ manifest: manifest([{ op: 'transpose', input: 'x', perm: [0, 3, 1] }]), model, ort });
    await expect(badPerm.run({ x: { dtype: 'float32', shape: [1, 3, 4, 4], data: new Float32Array(48) } })).rejects.toMatchObject({ code: 'PIPELINE_INVALID', message: expect.stringContaining('perm [0, 3, 1] has 3 axes') });
    await expect(createPredictor({ manifest: manifest([{ op: 'cast', input: 'nope', to: 'float32' }]), model, ort })).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining("names input 'nope', which is not an input") });
    await expect(createPredictor({ manifest: manifest([], [{ op: 'topk', output: 'y', k: 1 }]), model, ort })).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining('topk changes output') });
    await expect(createPredictor({ manifest: manifest([{ op: 'normalize', input: 'x', mean: [0, 0], std: 1 }]), model, ort }).then((p) => p.run({ x: { dtype: 'float32', shape: [1, 3, 4, 4], data: new Float32Array(48) } }))).rejects.toMatchObject({ code: 'PIPELINE_INVALID', message: expect.stringContaining('mean has 2 values; expected 1 or 3') });
    await Promise.all([piped.release(), noCast.release(), badPerm.release()]);
  });
});

/** convModel with a symbolic batch dim. */
function convModelBatch(): Uint8Array {
  const m = onnx.ModelProto.decode(convModel());
  for (const v of [...m.graph!.input!, ...m.graph!.output!]) v.type!.tensorType!.shape!.dim![0] = { dimParam: 'batch' };
  return onnx.ModelProto.encode(m).finish();
}
