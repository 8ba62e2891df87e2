import { attrInt, outputNames, usesByName, type Use } from '../graph';
import { OnnxType, type ModelProto, type NodeProto, type TensorProto } from '../proto/types';
import { readFloat32, setTensorData, tensorDims } from '../tensors';
import { findWeights, type WeightRef } from '../weights';

/** One producer -> consumer pair whose channels were removed. */
export interface PrunedChannelsReport {
  /** Node that makes the channels (Conv, Gemm, MatMul) and the one that reads them. */
  producer: string;
  consumer: string;
  /** Ops between them, each acting on every channel on its own (Relu, MaxPool, per-channel Add...). */
  between: string[];
  channelsBefore: number;
  channelsAfter: number;
  /** Indices (in the original numbering) of the channels removed: those whose producer filter has the smallest L2 norm. */
  removed: number[];
  /** Largest filter L2 norm among the removed channels. */
  threshold: number;
  /** Every tensor sliced: name and its shape after. */
  tensors: { name: string; shape: number[] }[];
}

export interface ChannelPruneResult {
  pairs: PrunedChannelsReport[];
  /** Why a producer was not pruned (one line per candidate). */
  skipped: string[];
  /** Float32 weight values before and after over the tensors sliced. */
  valuesBefore: number;
  valuesAfter: number;
}

// Ops that act on each channel independently with no parameters (0 stays a channel of its own).
const PER_CHANNEL_UNARY = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Identity', 'Neg', 'Abs', 'Gelu', 'Mish', 'Erf', 'Celu', 'ThresholdedRelu']);
// Only along NCHW: pooling keeps channels separate (not along the feature axis of a MatMul).
const PER_CHANNEL_POOL = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool']);
const ELEMENTWISE_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'PRelu']);

interface Slice {
  ref: WeightRef;
  /** Axis of the tensor that indexes the channels. */
  axis: number;
}

interface Plan {
  producer: NodeProto;
  consumer: NodeProto;
  between: NodeProto[];
  /** Tensor whose slices along `axis` score the channels (the producer's weight). */
  score: Slice;
  slices: Slice[];
  channels: number;
  /** Tensor names whose shapes change (their value_info is dropped; shape inference recomputes it). */
  activations: string[];
}

/**
 * Structured channel pruning "where it is safe": a Conv (group 1), Gemm or MatMul whose output reaches exactly one
 * Conv (group 1) / Gemm / MatMul input through ops that treat every channel on its own. Removing channel c then
 * deletes filter c of the producer, entry c of its bias and of every per-channel constant in between, and input
 * slice c of the consumer's weight. The pruned model computes exactly what the original computes with that
 * consumer slice set to zero, at fewer operations and bytes. Anything else (Reshape/Flatten in between, a second
 * reader, a graph output, weights shared or overridable, subgraphs, grouped convolutions) is left alone and
 * listed in `skipped` with the reason.
 */
export function pruneChannels(model: ModelProto, sparsity: number, exclude: Set<string>): ChannelPruneResult {
  const result: ChannelPruneResult = { pairs: [], skipped: [], valuesBefore: 0, valuesAfter: 0 };
  const main = model.graph!;
  const before = new Map<TensorProto, number>();
  for (const producer of [...main.node]) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(producer.opType ?? '') || (producer.domain ?? '') !== '') continue;
    // Plan against the current model: an earlier pair may have sliced this producer's weight along its input axis.
    const weights = new Map(findWeights(model).map((w) => [w.name, w]));
    const plan = planPair(model, producer, weights, exclude);
    const label = producer.name || producer.output[0] || producer.opType!;
    if (typeof plan === 'string') {
      result.skipped.push(`${label}: ${plan}`);
      continue;
    }
    const norms = channelNorms(plan.score);
    const k = Math.min(Math.round(sparsity * plan.channels), plan.channels - 1);
    if (k <= 0) {
      result.skipped.push(`${label}: ${plan.channels} channels x sparsity ${sparsity} rounds to none removed`);
      continue;
    }
    const order = Array.from(norms.keys()).sort((a, b) => norms[a]! - norms[b]! || a - b);
    const removed = order.slice(0, k).sort((a, b) => a - b);
    const gone = new Set(removed);
    const keep = Array.from({ length: plan.channels }, (_, i) => i).filter((i) => !gone.has(i));
    const tensors: { name: string; shape: number[] }[] = [];
    for (const s of plan.slices) {
      const dims = tensorDims(s.ref.tensor);
      if (!before.has(s.ref.tensor)) before.set(s.ref.tensor, dims.reduce((a, b) => a * b, 1));
      const data = sliceAxis(readFloat32(s.ref.tensor), dims, s.axis, keep);
      dims[s.axis] = keep.length;
      setTensorData(s.ref.tensor, OnnxType.FLOAT, dims, data);
      tensors.push({ name: s.ref.name, shape: dims });
    }
    const stale = new Set(plan.activations);
    main.valueInfo = main.valueInfo.filter((v) => !stale.has(v.name ?? ''));
    result.pairs.push({
      producer: label,
      consumer: plan.consumer.name || plan.consumer.output[0] || plan.consumer.opType!,
      between: plan.between.map((n) => n.opType ?? ''),
      channelsBefore: plan.channels,
      channelsAfter: keep.length,
      removed,
      threshold: Math.max(...removed.map((c) => norms[c]!)),
      tensors,
    });
  }
  for (const [t, n] of before) {
    result.valuesBefore += n;
    result.valuesAfter += tensorDims(t).reduce((a, b) => a * b, 1);
  }
  return result;
}

function planPair(model: ModelProto, producer: NodeProto, weights: Map<string, WeightRef>, exclude: Set<string>): Plan | string {
  const main = model.graph!;
  const uses = usesByName(main);
  const outputs = outputNames(main);
  const op = producer.opType!;
  const w = ownWeight(weights.get(producer.input[1] ?? ''), producer, 1, exclude);
  if (typeof w === 'string') return w;
  const wDims = tensorDims(w.tensor);
  let axis: number;
  if (op === 'Conv') {
    if (attrInt(producer, 'group', 1) !== 1) return 'grouped convolution';
    axis = 0;
  } else if (op === 'Gemm') {
    if (attrInt(producer, 'transA', 0) !== 0) return 'Gemm with transA';
    axis = attrInt(producer, 'transB', 0) ? 0 : 1;
  } else {
    if (wDims.length !== 2) return `MatMul weight of rank ${wDims.length}`;
    axis = 1;
  }
  const channels = wDims[axis]!;
  const conv = op === 'Conv';
  // Right-aligned position of the channel axis in the activation: NCHW axis 1 of rank wDims.length, else last.
  const fromEnd = conv ? wDims.length - 2 : 0;
  const slices: Slice[] = [{ ref: w, axis }];
  const bias = producer.input[2];
  if (bias) {
    const b = perChannel(weights.get(bias), producer, 2, channels, 0, exclude);
    if (typeof b === 'string') return b;
    if (b) slices.push(b);
  }
  const between: NodeProto[] = [];
  const activations: string[] = [];
  let t = producer.output[0] ?? '';
  for (;;) {
    if (outputs.has(t)) return `"${t}" is a graph output`;
    const readers = uses.get(t) ?? [];
    if (readers.length !== 1) return `"${t}" has ${readers.length} readers`;
    const use: Use = readers[0]!;
    const n = use.node;
    if (use.scope.graph !== main) return `"${t}" is read inside a subgraph`;
    if ((n.domain ?? '') !== '') return `"${t}" feeds ${n.opType} of domain ${n.domain}`;
    activations.push(t);
    const nop = n.opType ?? '';
    if (use.input === 0 && (nop === 'Conv' || nop === 'Gemm' || nop === 'MatMul')) {
      if (conv !== (nop === 'Conv')) return `${op} feeds ${nop}`;
      const cw = ownWeight(weights.get(n.input[1] ?? ''), n, 1, exclude);
      if (typeof cw === 'string') return `consumer ${n.name || nop}: ${cw}`;
      let cAxis: number;
      if (nop === 'Conv') {
        if (attrInt(n, 'group', 1) !== 1) return `consumer ${n.name || nop} is a grouped convolution`;
        cAxis = 1;
      } else if (nop === 'Gemm') {
        if (attrInt(n, 'transA', 0) !== 0) return `consumer ${n.name || nop} has transA`;
        cAxis = attrInt(n, 'transB', 0) ? 1 : 0;
      } else {
        if (tensorDims(cw.tensor).length !== 2) return `consumer ${n.name || nop} weight is not 2-D`;
        cAxis = 0;
      }
      if (tensorDims(cw.tensor)[cAxis] !== channels) return `consumer ${n.name || nop} reads ${tensorDims(cw.tensor)[cAxis]} channels, not ${channels}`;
      slices.push({ ref: cw, axis: cAxis });
      return { producer, consumer: n, between, score: { ref: w, axis }, slices, channels, activations };
    }
    if (PER_CHANNEL_UNARY.has(nop) || (conv && PER_CHANNEL_POOL.has(nop)) || nop === 'Dropout' || nop === 'Clip') {
      if (use.input !== 0) return `"${t}" is input ${use.input} of ${nop}`;
      // Clip bounds and Dropout's ratio must be constants (scalars apply to every channel alike).
      for (let i = 1; i < n.input.length; i++) if (n.input[i] && !weights.has(n.input[i]!)) return `${nop} input ${i} is not a constant`;
      if (n.output.slice(1).some((o) => o && (uses.get(o)?.length || outputs.has(o)))) return `${nop} has a second output in use`;
    } else if (ELEMENTWISE_BINARY.has(nop)) {
      const other = n.input[1 - use.input] ?? '';
      const s = perChannel(weights.get(other), n, 1 - use.input, channels, fromEnd, exclude);
      if (typeof s === 'string') return s;
      if (s) slices.push(s);
    } else if (conv && nop === 'BatchNormalization' && use.input === 0) {
      if (n.output.slice(1).some((o) => o)) return 'BatchNormalization in training mode';
      for (let i = 1; i <= 4; i++) {
        const s = perChannel(weights.get(n.input[i] ?? ''), n, i, channels, 0, exclude);
        if (typeof s === 'string') return s;
        if (!s) return `BatchNormalization input ${i} is not per channel`;
        slices.push(s);
      }
    } else {
      return `"${t}" feeds ${nop}, which mixes or reshapes channels`;
    }
    between.push(n);
    t = n.output[0] ?? '';
  }
}

/** A float32 constant read only by `node` at `input`, and safe to rewrite. */
function ownWeight(w: WeightRef | undefined, node: NodeProto, input: number, exclude: Set<string>): WeightRef | string {
  const what = `${node.opType} input ${input}`;
  if (!w) return `${what} is not a constant`;
  if (w.tensor.dataType !== OnnxType.FLOAT) return `${what} "${w.name}" is not float32`;
  if (w.overridable) return `${what} "${w.name}" is an overridable input`;
  if (w.reshapedFrom) return `${what} "${w.name}" is a Reshape of a constant`;
  if (exclude.has(w.name)) return `${what} "${w.name}" is excluded`;
  if (w.uses.length !== 1 || w.uses[0]!.node !== node || w.uses[0]!.input !== input) return `${what} "${w.name}" is shared`;
  return w;
}

/**
 * A per-channel constant (right-aligned against an activation whose channel axis is `fromEnd` from the end): the
 * slice to take, undefined when it has no channel axis (broadcast: nothing to cut), or why it cannot be cut.
 */
function perChannel(w: WeightRef | undefined, node: NodeProto, input: number, channels: number, fromEnd: number, exclude: Set<string>): Slice | undefined | string {
  const own = ownWeight(w, node, input, exclude);
  if (typeof own === 'string') return own;
  const dims = tensorDims(own.tensor);
  const axis = dims.length - 1 - fromEnd;
  if (axis < 0 || dims[axis] === 1) return undefined;
  if (dims[axis] !== channels) return `${node.opType} input ${input} "${own.name}" [${dims.join(', ')}] is not per channel (${channels})`;
  return { ref: own, axis };
}

function channelNorms(s: Slice): Float32Array {
  const dims = tensorDims(s.ref.tensor);
  const data = readFloat32(s.ref.tensor);
  const n = dims[s.axis]!;
  const inner = dims.slice(s.axis + 1).reduce((a, b) => a * b, 1);
  const norms = new Float64Array(n);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % n;
    norms[c] = norms[c]! + data[i]! * data[i]!;
  }
  return Float32Array.from(norms, Math.sqrt);
}

/** Keep the indices `keep` along `axis` of a row-major tensor. */
export function sliceAxis(data: Float32Array, dims: readonly number[], axis: number, keep: readonly number[]): Float32Array {
  const n = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = data.length / (n * inner);
  const out = new Float32Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const c of keep) {
      const start = (a * n + c) * inner;
      out.set(data.subarray(start, start + inner), o);
      o += inner;
    }
  }
  return out;
}
