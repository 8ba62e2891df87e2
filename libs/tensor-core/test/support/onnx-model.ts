// Test support: builds one-node ONNX models in memory so reference tests can ask onnxruntime-node what an
// operator computes. Encoded with the onnx-proto package (protobufjs); dtype codes are passed as numbers so
// types newer than that package's schema (int4 = 22, uint4 = 21) still encode.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { DTYPE_INFO, type DType } from '../../src';

const { onnx } = onnxProto;

/** A graph input or output: name, dtype and shape (a string dim is symbolic, -1 for unknown). */
export interface ValueSpec {
  name: string;
  dtype: DType;
  shape?: readonly (number | string)[];
}

/** A constant fed to the node as an initializer (raw little-endian bytes). */
export interface InitSpec {
  name: string;
  dtype: DType;
  shape: readonly number[];
  data: ArrayBufferView;
}

export type AttrValue = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

export interface ModelSpec {
  nodes: readonly NodeSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly InitSpec[];
  opset?: number;
}

const AT = onnx.AttributeProto.AttributeType;

function attribute(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  if (typeof v === 'number') {
    // Integers are INT attributes; a float attribute must be spelled { float: x } so 1.0 is not mistaken for 1.
    return onnx.AttributeProto.create({ name, type: AT.INT, i: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: v.float });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: [...v.floats] });
  return onnx.AttributeProto.create({ name, type: AT.INTS, ints: [...(v as readonly number[])] });
}

function valueInfo(v: ValueSpec): InstanceType<typeof onnx.ValueInfoProto> {
  const tensorType: Record<string, unknown> = { elemType: DTYPE_INFO[v.dtype].onnx };
  if (v.shape) {
    tensorType['shape'] = {
      dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : d < 0 ? {} : { dimValue: d })),
    };
  }
  return onnx.ValueInfoProto.create({ name: v.name, type: { tensorType } });
}

/** Serialized ModelProto for the given nodes (default opset 21, IR version 10). */
export function buildModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: 'g',
    node: spec.nodes.map((n) =>
      onnx.NodeProto.create({
        opType: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      }),
    ),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: (spec.initializers ?? []).map((t) =>
      onnx.TensorProto.create({
        name: t.name,
        dataType: DTYPE_INFO[t.dtype].onnx,
        dims: [...t.shape],
        rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice(),
      }),
    ),
  });
  const model = onnx.ModelProto.create({
    irVersion: 10,
    producerName: 'lepton-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 21 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A model with one node whose inputs are all graph inputs except the named initializers. */
export function oneNodeModel(
  op: string,
  inputs: readonly ValueSpec[],
  outputs: readonly ValueSpec[],
  attrs: Record<string, AttrValue> = {},
  initializers: readonly InitSpec[] = [],
  opset = 21,
): Uint8Array {
  const names = [...inputs.map((i) => i.name), ...initializers.map((i) => i.name)];
  return buildModel({
    nodes: [{ op, inputs: names, outputs: outputs.map((o) => o.name), attrs }],
    inputs,
    outputs,
    initializers,
    opset,
  });
}

const sessionOptions: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
};

export async function createSession(model: Uint8Array, options = sessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, options);
}

/** Run a model once and return every output. */
export async function runModel(
  model: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await createSession(model);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

export { ort };
