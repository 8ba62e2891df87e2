import { allGraphs, outputNames } from './graph';
import { decodeModel } from './proto/codec';
import { OnnxType, int64, type ModelProto, type ValueInfoProto } from './proto/types';
import { onnxTypeName, tensorDims } from './tensors';
import { findWeights, type WeightRef } from './weights';
import { defaultOpset, opsetBlockers } from './opset';
import { weightBlocker } from './passes/int8-weight';
import { staticNodes } from './passes/calibration';

export interface TensorSpec {
  name: string;
  dtype: string;
  /** Dims: numbers, symbolic names, or null when unknown. */
  shape: (number | string | null)[] | null;
}

export interface WeightSummary {
  tensors: number;
  parameters: number;
  bytes: number;
}

export interface InspectReport {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Node count per op type, subgraphs included. */
  ops: Record<string, number>;
  nodes: number;
  subgraphs: number;
  parameters: { count: number; bytes: number; byDtype: Record<string, WeightSummary> };
  /** Where the constant tensors live: initializers or Constant nodes, in the main graph or in subgraphs. */
  weightLocations: Record<'initializer' | 'constant' | 'subgraphInitializer' | 'subgraphConstant', WeightSummary>;
  largest: { name: string; graph: string; location: string; dtype: string; shape: number[]; bytes: number }[];
  /** What each pass could do to this model. */
  passes: { pass: string; applicable: boolean; detail: string }[];
}

function spec(v: ValueInfoProto): TensorSpec {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim;
  return {
    name: v.name ?? '',
    dtype: t ? onnxTypeName(t.elemType) : 'non-tensor',
    shape: dims ? dims.map((d) => (has(d, 'dimValue') ? int64(d.dimValue) : has(d, 'dimParam') ? d.dimParam! : null)) : null,
  };
}

const empty = (): WeightSummary => ({ tensors: 0, parameters: 0, bytes: 0 });
function add(s: WeightSummary, w: WeightRef): void {
  s.tensors++;
  s.parameters += w.elements;
  s.bytes += w.bytes;
}

/** Describe a model: interface, ops, weights and where they live, and what each pass could change. */
export function inspectModel(input: Uint8Array | ModelProto): InspectReport {
  const model = input instanceof Uint8Array ? decodeModel(input) : input;
  const main = model.graph!;
  const scopes = allGraphs(main);
  const ops: Record<string, number> = {};
  let nodes = 0;
  for (const { graph } of scopes) {
    for (const n of graph.node) {
      const key = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? '');
      ops[key] = (ops[key] ?? 0) + 1;
      nodes++;
    }
  }
  const initNames = new Set(main.initializer.map((t) => t.name));
  const weights = findWeights(model).filter((w) => !w.overridable);
  const byDtype: Record<string, WeightSummary> = {};
  const locations = { initializer: empty(), constant: empty(), subgraphInitializer: empty(), subgraphConstant: empty() };
  for (const w of weights) {
    add((byDtype[onnxTypeName(w.tensor.dataType)] ??= empty()), w);
    const sub = w.scope.path !== 'main';
    add(locations[w.location === 'initializer' ? (sub ? 'subgraphInitializer' : 'initializer') : sub ? 'subgraphConstant' : 'constant'], w);
  }
  const largest = [...weights]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10)
    .map((w) => ({ name: w.name, graph: w.scope.path, location: w.location, dtype: onnxTypeName(w.tensor.dataType), shape: tensorDims(w.tensor), bytes: w.bytes }));
  return {
    irVersion: int64(model.irVersion),
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain ?? '', version: int64(o.version) })),
    inputs: main.input.filter((v) => !initNames.has(v.name)).map(spec),
    outputs: main.output.map(spec),
    ops,
    nodes,
    subgraphs: scopes.length - 1,
    parameters: {
      count: weights.reduce((a, w) => a + w.elements, 0),
      bytes: weights.reduce((a, w) => a + w.bytes, 0),
      byDtype,
    },
    weightLocations: locations,
    largest,
    passes: passOutlook(model, weights, ops),
  };
}

function passOutlook(model: ModelProto, weights: WeightRef[], ops: Record<string, number>): InspectReport['passes'] {
  const outputs = outputNames(model.graph!);
  const floats = weights.filter((w) => w.tensor.dataType === OnnxType.FLOAT);
  const quantizable = floats.filter((w) => !weightBlocker(w, outputs, 16, 256, new Set()));
  const qBytes = quantizable.reduce((a, w) => a + w.bytes, 0);
  const fBytes = floats.reduce((a, w) => a + w.bytes, 0);
  const opset = defaultOpset(model);
  const perChannel = opset >= 13 || opsetBlockers(model, 13).length === 0;
  const matmuls = (ops.MatMul ?? 0) + (ops.Gemm ?? 0);
  const statics = staticNodes(model).length;
  const where = new Set(quantizable.map((w) => `${w.location}${w.scope.path === 'main' ? '' : ' in subgraph'}`));
  return [
    {
      pass: 'int8-weight',
      applicable: quantizable.length > 0,
      detail: `${quantizable.length} float32 tensors (${qBytes} bytes, in ${[...where].join(', ') || 'none'}) -> about ${Math.round(qBytes / 4)} bytes; ${perChannel ? 'per-channel' : `per-tensor only (opset ${opset}; ${opsetBlockers(model, 13).join(', ')} block opset 13)`}`,
    },
    {
      pass: 'int8-dynamic',
      applicable: matmuls + (ops.Conv ?? 0) > 0,
      detail: `${matmuls} MatMul/Gemm (MatMulInteger u8 x s8, 7-bit weights by default) and ${ops.Conv ?? 0} Conv (ConvInteger u8 x u8) nodes; only those with constant weights are rewritten`,
    },
    {
      pass: 'int8-static',
      applicable: statics > 0,
      detail: `${statics} Conv/ConvTranspose/Gemm/MatMul nodes in the main graph get QDQ activations (needs calibration data)`,
    },
    { pass: 'fp16', applicable: fBytes > 0, detail: `${floats.length} float32 constants (${fBytes} bytes) -> ${Math.round(fBytes / 2)} bytes; block-listed ops and shape arithmetic stay float32` },
    { pass: 'prune', applicable: quantizable.length > 0, detail: 'magnitude pruning of Conv/ConvTranspose/Gemm/MatMul/RNN weights (zeros compress; the file stays dense)' },
  ];
}

// Decoded messages carry defaults on their prototype; only own properties were on the wire.
function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}
