import { LeptonError } from '@lepton/tensor-core';
import { liftLegacyIr } from '../opset';
import { NameScope, allGraphs, liftConstantFloats, makeNode, outputNames, tensorAttr, intAttr, usesByName, type GraphScope } from '../graph';
import { decodeModel, encodeModel } from '../proto/codec';
import { int64, type ModelProto, type NodeProto, type TensorProto } from '../proto/types';
import { makeTensor, tensorDims } from '../tensors';
import { findWeights, type WeightRef } from '../weights';

/** A model as bytes, or an already decoded (and external-data-loaded) ModelProto, which is never modified. */
export type ModelInput = Uint8Array | ModelProto;

/** Decode a private copy the pass may rewrite. Raw tensor bytes stay views on the input (never written to). */
export function workingCopy(input: ModelInput): ModelProto {
  let model: ModelProto;
  if (input instanceof Uint8Array) model = decodeModel(input);
  else if (!input || typeof input !== 'object' || !input.graph) {
    throw new LeptonError('VALIDATION_FAILED', 'model must be ONNX bytes (Uint8Array) or a decoded ModelProto with a graph');
  } else model = decodeModel(encodeModel(input));
  liftLegacyIr(model);
  liftConstantFloats(model.graph!);
  return model;
}

export interface PassResult<R> {
  /** The rewritten model, encoded. */
  model: Uint8Array;
  /** The rewritten model, decoded (to write it with external data, or chain another pass without decoding). */
  proto: ModelProto;
  report: R;
}

export function finish<R>(proto: ModelProto, report: R): PassResult<R> {
  return { model: encodeModel(proto), proto, report };
}

/** Mark the producer chain in the model's metadata so a variant says how it was made. */
export function stampPass(model: ModelProto, pass: string, options: unknown): void {
  const key = 'lepton.passes';
  const entry = model.metadataProps.find((p) => p.key === key);
  const list = entry?.value ? (JSON.parse(entry.value) as unknown[]) : [];
  list.push({ pass, options });
  if (entry) entry.value = JSON.stringify(list);
  else model.metadataProps.push({ key, value: JSON.stringify(list) });
}

/** Quantized form of a weight: integer data, scale (1 or per channel), zero point, and the DequantizeLinear axis. */
export interface QuantizedWeight {
  dataType: number;
  data: ArrayBufferView;
  scale: Float32Array;
  zeroPoint: ArrayBufferView;
  zeroPointType: number;
  axis?: number;
}

/**
 * Replace a weight with its quantized form plus a DequantizeLinear that outputs the original name, so every
 * consumer (subgraphs included) reads the dequantized value unchanged. An initializer becomes three initializers
 * and a DequantizeLinear at the top of its graph; a Constant node becomes three Constant nodes and the
 * DequantizeLinear in its place, which keeps the graph topologically sorted.
 */
export function replaceWithDequantize(w: WeightRef, q: QuantizedWeight, names: NameScope): NodeProto {
  const dims = tensorDims(w.tensor);
  const qName = names.fresh(`${w.name}_quantized`);
  const sName = names.fresh(`${w.name}_scale`);
  const zName = names.fresh(`${w.name}_zero_point`);
  const scaleDims = q.axis === undefined ? [] : [q.scale.length];
  const tensors: TensorProto[] = [
    makeTensor(qName, q.dataType, dims, q.data),
    makeTensor(sName, 1, scaleDims, q.scale),
    makeTensor(zName, q.zeroPointType, scaleDims, q.zeroPoint),
  ];
  if (w.tensor.docString) tensors[0]!.docString = w.tensor.docString;
  const attrs = q.axis === undefined ? [] : [intAttr('axis', q.axis)];
  const dq = makeNode('DequantizeLinear', [qName, sName, zName], [w.name], names.fresh(`${w.name}_DequantizeLinear`), attrs);
  const graph = w.scope.graph;
  if (w.reshapedFrom) {
    // Seen through a constant Reshape: the DequantizeLinear takes the Reshape's place (the original is dropped later).
    graph.initializer.push(...tensors);
    const at = graph.node.findIndex((n) => n.opType === 'Reshape' && n.output[0] === w.name);
    graph.node.splice(at, 1, dq);
  } else if (w.location === 'initializer') {
    const at = graph.initializer.indexOf(w.tensor);
    graph.initializer.splice(at, 1, ...tensors);
    graph.node.unshift(dq);
    // The float value is no longer an initializer; an input of the same name would now be a required input.
    graph.input = graph.input.filter((v) => v.name !== w.name);
  } else {
    const at = graph.node.indexOf(w.node!);
    const constants = tensors.map((t) => {
      const name = t.name!;
      delete t.name;
      return makeNode('Constant', [], [name], names.fresh(`${name}_Constant`), [tensorAttr('value', t)]);
    });
    graph.node.splice(at, 1, ...constants, dq);
  }
  return dq;
}

export function irVersionOf(model: ModelProto): number {
  return int64(model.irVersion);
}

/** Human path of a weight for reports: graph path plus name. */
export function weightPath(w: WeightRef | { scope: GraphScope; name: string }): string {
  return w.scope.path === 'main' ? w.name : `${w.scope.path}:${w.name}`;
}

/**
 * Remove the given constants where nothing reads them any more (their readers were rewritten). A weight seen
 * through a constant Reshape takes its Reshape and then the original tensor with it.
 */
export function dropUnused(model: ModelProto, candidates: WeightRef[]): void {
  const outputs = outputNames(model.graph!);
  let uses = usesByName(model.graph!);
  const unused = (name: string) => (uses.get(name)?.length ?? 0) === 0 && !outputs.has(name);
  const originals: WeightRef[] = [];
  for (const w of new Set(candidates)) {
    if (!unused(w.name)) continue;
    if (w.reshapedFrom) {
      let shape = '';
      for (const { graph } of allGraphs(model.graph!)) {
        graph.node = graph.node.filter((n) => {
          const hit = n.opType === 'Reshape' && n.output[0] === w.name;
          if (hit) shape = n.input[1] ?? '';
          return !hit;
        });
      }
      for (const o of findWeights(model)) if ((o.name === w.reshapedFrom || o.name === shape) && o.scope.graph === w.scope.graph) originals.push(o);
    } else if (w.location === 'initializer') w.scope.graph.initializer = w.scope.graph.initializer.filter((t) => t !== w.tensor);
    else w.scope.graph.node = w.scope.graph.node.filter((n) => n !== w.node);
  }
  if (originals.length > 0) {
    uses = usesByName(model.graph!);
    dropUnused(model, originals);
  }
}
