import { readFileSync } from 'node:fs';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelManifestInput } from '@lepton/contracts';
import { OnnxType, decodeModel, encodeModel, makeNode, makeTensor, makeValueInfo, readIntegers, setTensorData, type ModelProto } from '@lepton/onnx';

/**
 * Give a model exported with batch size 1 a symbolic batch dim, so requests can be batched: dim 0 of every graph
 * input (that is not an initializer) and output becomes `dim`, inferred value_info is dropped (onnxruntime infers
 * it again), and Reshape targets that start with the baked-in 1 start with -1 instead. The last step is right for
 * models that flatten per sample before a classifier head (mnist-8: [1, 256] -> [-1, 256]); check a rewritten
 * model's outputs against the original, as the tests do, before serving it.
 */
export function withSymbolicBatch(model: Uint8Array, dim = 'batch'): Uint8Array {
  const m = decodeModel(model);
  const g = m.graph!;
  const inits = new Set(g.initializer.map((t) => t.name ?? ''));
  for (const v of [...g.input.filter((i) => !inits.has(i.name ?? '')), ...g.output]) {
    const d0 = v.type?.tensorType?.shape?.dim[0];
    if (d0 === undefined) throw new LeptonError('MANIFEST_INVALID', `graph value '${v.name}' has no dim 0 to make symbolic`);
    delete d0.dimValue;
    d0.dimParam = dim;
  }
  g.valueInfo = [];
  const shapes = new Set(g.node.filter((n) => n.opType === 'Reshape').map((n) => n.input[1] ?? ''));
  for (const t of g.initializer) {
    if (!shapes.has(t.name ?? '') || t.dataType !== OnnxType.INT64) continue;
    const v = readIntegers(t);
    if (v[0] === 1) setTensorData(t, OnnxType.INT64, [v.length], BigInt64Array.from([-1n, ...v.slice(1).map(BigInt)]));
  }
  return encodeModel(m);
}

/** mnist-8 (../shared/models/mnist-8.onnx, ONNX Model Zoo) with a symbolic batch dim, and its manifest. */
export function mnistBatchable(path: string, opts: { id?: string; batching?: ModelManifestInput['batching'] } = {}): {
  model: Uint8Array;
  manifest: ModelManifestInput;
} {
  const model = withSymbolicBatch(new Uint8Array(readFileSync(path)), 'batch');
  const manifest: ModelManifestInput = {
    id: opts.id ?? 'mnist-8',
    name: 'MNIST digit classifier (ONNX Model Zoo mnist-8)',
    version: '8',
    task: 'classification',
    license: 'MIT',
    source: 'ONNX Model Zoo mnist-8, batch dim made symbolic by withSymbolicBatch',
    inputs: [{ name: 'Input3', dtype: 'float32', shape: ['batch', 1, 28, 28], maxShape: [256, 1, 28, 28], layout: 'NCHW' }],
    outputs: [{ name: 'Plus214_Output_0', dtype: 'float32', shape: ['batch', 10], layout: 'NC' }],
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    ...(opts.batching ? { batching: opts.batching } : {}),
  };
  return { model, manifest };
}

/**
 * A two-op model built in code, for tests that need a real batchable model on a fresh clone:
 * y = x * 2 (float32 [batch, 4]) and n = Not(b) (bool [batch, 3]).
 */
export function tinyBatchModel(): { model: Uint8Array; manifest: ModelManifestInput } {
  const m: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'lepton-tests',
    metadataProps: [],
    trainingInfo: [],
    functions: [],
    graph: {
      name: 'tiny',
      node: [makeNode('Mul', ['x', 'two'], ['y'], 'mul'), makeNode('Not', ['b'], ['n'], 'not')],
      initializer: [makeTensor('two', OnnxType.FLOAT, [], new Float32Array([2]))],
      sparseInitializer: [],
      input: [makeValueInfo('x', OnnxType.FLOAT, ['batch', 4]), makeValueInfo('b', OnnxType.BOOL, ['batch', 3])],
      output: [makeValueInfo('y', OnnxType.FLOAT, ['batch', 4]), makeValueInfo('n', OnnxType.BOOL, ['batch', 3])],
      valueInfo: [],
      quantizationAnnotation: [],
      metadataProps: [],
    },
  };
  const manifest: ModelManifestInput = {
    id: 'tiny-batch',
    name: 'Tiny batchable model (tests)',
    version: '1',
    task: 'generic',
    inputs: [
      { name: 'x', dtype: 'float32', shape: ['batch', 4], maxShape: [64, 4] },
      { name: 'b', dtype: 'bool', shape: ['batch', 3], maxShape: [64, 3] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', shape: ['batch', 4] },
      { name: 'n', dtype: 'bool', shape: ['batch', 3] },
    ],
  };
  return { model: encodeModel(m), manifest };
}
