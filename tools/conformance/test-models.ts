import { encodeModel, type ModelProto } from '@lepton/onnx';

/** One-node ONNX models built in code for the field cases (no binary fixtures to keep in the repo). */
export function oneNodeModel(op: string, elemType: number, inputDims: readonly (number | string)[], outputDims = inputDims): Uint8Array {
  const dims = (ds: readonly (number | string)[]) => ({ dim: ds.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) });
  const model = {
    irVersion: 8,
    producerName: 'lepton-conformance',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: `${op.toLowerCase()}-graph`,
      node: [{ input: ['x'], output: ['y'], opType: op, name: op.toLowerCase() }],
      input: [{ name: 'x', type: { tensorType: { elemType, shape: dims(inputDims) } } }],
      output: [{ name: 'y', type: { tensorType: { elemType, shape: dims(outputDims) } } }],
    },
  } as unknown as ModelProto;
  return encodeModel(model);
}
