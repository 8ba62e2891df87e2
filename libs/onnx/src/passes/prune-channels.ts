import { attrInt, getAttr, outputNames, usesByName, type Use } from '../graph';
import { OnnxType, type ModelProto, type NodeProto, type TensorProto } from '../proto/types';
import { readFloat32, readIntegers, setTensorData, tensorDims } from '../tensors';
import { findWeights, type WeightRef } from '../weights';
import { staticShapes, type StaticDims } from './static-shapes';

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
  /** Other edits the cut needed: a Reshape's shape constant, a depthwise Conv's group. */
  rewritten: string[];
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
  /** Axis of the tensor (or of `view`) that indexes the channels. */
  axis: number;
  /**
   * Dims to see the tensor as while slicing (default its own): a flattened weight [C*HW, N] is sliced as
   * [C, HW, N] along axis 0, so channel c removes its block of HW rows.
   */
  view?: number[];
  /** The tensor's dims after keeping `kept` channels (default: its dims, or `view`, with the axis cut). */
  after?: (kept: number) => number[];
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
  /** Edits besides slicing (Reshape shape constants, depthwise group), applied once the kept count is known. */
  rewrites: ((kept: number) => string)[];
}

/**
 * Structured channel pruning "where it is safe": a Conv (group 1), Gemm or MatMul whose output reaches exactly one
 * Conv (group 1) / Gemm / MatMul input through ops that treat every channel on its own, depthwise convolutions over
 * those channels included, and for a Conv also through a Flatten (axis 1) or a Reshape to [N, C*H*W] into a
 * MatMul/Gemm. Removing channel c then deletes filter c of the producer, entry c of its bias, of every per-channel
 * constant and depthwise filter in between, and input slice c of the consumer's weight (after a flattening: its
 * block of H*W rows, or columns with Gemm transB). The pruned model computes exactly what the original computes
 * with that consumer slice set to zero, at fewer operations and bytes. Anything else (a Reshape not provably
 * [N, C*H*W], a second reader, a graph output, weights shared or overridable, subgraphs, other grouped
 * convolutions) is left alone and listed in `skipped` with the reason.
 */
export function pruneChannels(model: ModelProto, sparsity: number, exclude: Set<string>): ChannelPruneResult {
  const result: ChannelPruneResult = { pairs: [], skipped: [], valuesBefore: 0, valuesAfter: 0 };
  const main = model.graph!;
  const before = new Map<TensorProto, number>();
  // Spatial sizes never change under channel pruning: work them out once, before any cut drops value_info.
  const shapes = staticShapes(main);
  for (const producer of [...main.node]) {
    if (!['Conv', 'Gemm', 'MatMul'].includes(producer.opType ?? '') || (producer.domain ?? '') !== '') continue;
    // Plan against the current model: an earlier pair may have sliced this producer's weight along its input axis.
    const weights = new Map(findWeights(model).map((w) => [w.name, w]));
    const plan = planPair(model, producer, weights, exclude, shapes);
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
      const own = tensorDims(s.ref.tensor);
      if (!before.has(s.ref.tensor)) before.set(s.ref.tensor, own.reduce((a, b) => a * b, 1));
      const view = s.view ?? own;
      const data = sliceAxis(readFloat32(s.ref.tensor), view, s.axis, keep);
      const dims = s.after ? s.after(keep.length) : view.map((d, i) => (i === s.axis ? keep.length : d));
      setTensorData(s.ref.tensor, OnnxType.FLOAT, dims, data);
      tensors.push({ name: s.ref.name, shape: dims });
    }
    const rewritten = plan.rewrites.map((r) => r(keep.length));
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
      rewritten,
    });
  }
  for (const [t, n] of before) {
    result.valuesBefore += n;
    result.valuesAfter += tensorDims(t).reduce((a, b) => a * b, 1);
  }
  return result;
}

/** How a Conv's NCHW output reaches a MatMul/Gemm after a Reshape/Flatten to [N, C*H*W]. */
interface Flattened {
  node: NodeProto;
  /** H*W (product of the spatial dims); undefined for a Flatten whose input shape is not declared (the consumer's weight fixes it). */
  hw?: number;
}

function planPair(model: ModelProto, producer: NodeProto, weights: Map<string, WeightRef>, exclude: Set<string>, shapes: Map<string, StaticDims>): Plan | string {
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
  const rewrites: ((kept: number) => string)[] = [];
  const bias = producer.input[2];
  if (bias) {
    const b = perChannel(weights.get(bias), producer, 2, channels, 0, exclude);
    if (typeof b === 'string') return b;
    if (b) slices.push(b);
  }
  const between: NodeProto[] = [];
  const activations: string[] = [];
  let flat: Flattened | undefined;
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
    const nname = n.name || nop;
    if (conv && !flat && nop === 'Conv' && use.input === 0 && attrInt(n, 'group', 1) !== 1) {
      // Depthwise (group == C_in == C_out): channel c in, channel c out; cut the same channels and lower group.
      const group = attrInt(n, 'group', 1);
      const dw = ownWeight(weights.get(n.input[1] ?? ''), n, 1, exclude);
      if (typeof dw === 'string') return `consumer ${nname}: ${dw}`;
      const d = tensorDims(dw.tensor);
      if (group !== channels || d[0] !== channels || d[1] !== 1) return `consumer ${nname} is a grouped convolution (group ${group}, weight [${d.join(', ')}]), not depthwise over ${channels} channels`;
      slices.push({ ref: dw, axis: 0 });
      if (n.input[2]) {
        const b = perChannel(weights.get(n.input[2]), n, 2, channels, 0, exclude);
        if (typeof b === 'string') return b;
        if (b) slices.push(b);
      }
      const attr = getAttr(n, 'group')!;
      rewrites.push((kept) => {
        attr.i = kept;
        return `${nname} group ${group} -> ${kept}`;
      });
    } else if (use.input === 0 && (nop === 'Conv' || nop === 'Gemm' || nop === 'MatMul')) {
      if ((conv && !flat) !== (nop === 'Conv')) return flat ? `"${t}" (flattened by ${flat.node.opType}) feeds ${nop}` : `${op} feeds ${nop}`;
      if (nop === 'Conv') {
        const cw = ownWeight(weights.get(n.input[1] ?? ''), n, 1, exclude);
        if (typeof cw === 'string') return `consumer ${nname}: ${cw}`;
        if (tensorDims(cw.tensor)[1] !== channels) return `consumer ${nname} reads ${tensorDims(cw.tensor)[1]} channels, not ${channels}`;
        slices.push({ ref: cw, axis: 1 });
      } else {
        const cut = featureSlice(model, n, weights, exclude, channels, flat, uses);
        if (typeof cut === 'string') return cut;
        slices.push(cut.slice);
        rewrites.push(...cut.rewrites);
        activations.push(...cut.activations);
      }
      return { producer, consumer: n, between, score: { ref: w, axis }, slices, channels, activations, rewrites };
    } else if (PER_CHANNEL_UNARY.has(nop) || (conv && !flat && PER_CHANNEL_POOL.has(nop)) || nop === 'Dropout' || nop === 'Clip') {
      if (use.input !== 0) return `"${t}" is input ${use.input} of ${nop}`;
      // Clip bounds and Dropout's ratio must be constants (scalars apply to every channel alike).
      for (let i = 1; i < n.input.length; i++) if (n.input[i] && !weights.has(n.input[i]!)) return `${nop} input ${i} is not a constant`;
      if (n.output.slice(1).some((o) => o && (uses.get(o)?.length || outputs.has(o)))) return `${nop} has a second output in use`;
    } else if (flat) {
      return `"${t}" (flattened by ${flat.node.opType}) feeds ${nop}`;
    } else if (conv && (nop === 'Flatten' || nop === 'Reshape') && use.input === 0) {
      const f = flattening(n, t, channels, wDims.length, weights, exclude, shapes);
      if (typeof f === 'string') return f;
      flat = f.flat;
      if (f.rewrite) rewrites.push(f.rewrite);
    } else if (ELEMENTWISE_BINARY.has(nop)) {
      const other = n.input[1 - use.input] ?? '';
      const s = perChannel(weights.get(other), n, 1 - use.input, channels, fromEnd, exclude);
      if (typeof s === 'string') return s;
      // A constant of higher rank would broadcast the NCHW activation to more dims (channel axis no longer 1).
      const r = tensorDims(weights.get(other)!.tensor).length;
      if (conv && r > wDims.length) return `${nop} input ${1 - use.input} "${other}" has rank ${r}, above the activation's ${wDims.length}`;
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

/**
 * A Flatten (axis 1) or a Reshape to [N, C*H*W] of an NCHW activation `t` with `channels` channels: every row is one
 * sample, channel-major, so channel c is the block of features c*HW .. (c+1)*HW - 1. A Reshape needs its shape to be
 * a constant and H*W to be known statically (it could otherwise split a sample over rows); its shape constant is
 * rewritten when it names C*H*W. Anything else is the reason it is not such a flattening.
 */
function flattening(
  n: NodeProto,
  t: string,
  channels: number,
  rank: number,
  weights: Map<string, WeightRef>,
  exclude: Set<string>,
  shapes: Map<string, StaticDims>,
): { flat: Flattened; rewrite?: (kept: number) => string } | string {
  const name = n.name || n.opType!;
  const spatial = shapes.get(t)?.slice(2);
  const hw = spatial && spatial.length === rank - 2 && spatial.every((d) => d !== undefined) ? (spatial as number[]).reduce((a, b) => a * b, 1) : undefined;
  if (n.opType === 'Flatten') {
    const a = attrInt(n, 'axis', 1);
    if (a !== 1 && a !== 1 - rank) return `Flatten ${name} has axis ${a}, not 1: rows would not be one sample each`;
    return { flat: { node: n, hw } };
  }
  const shapeName = n.input[1] ?? '';
  const ref = weights.get(shapeName);
  if (!ref || ref.tensor.dataType !== OnnxType.INT64) return `Reshape ${name}: shape "${shapeName}" is not a constant int64 tensor`;
  if (ref.overridable) return `Reshape ${name}: shape "${shapeName}" is an overridable input`;
  const target = readIntegers(ref.tensor);
  const allowzero = attrInt(n, 'allowzero', 0) === 1;
  if (hw === undefined) return `Reshape ${name} of "${t}": its spatial size is unknown (no static shape), so [${target.join(', ')}] cannot be checked to be [N, C*H*W]`;
  const chw = channels * hw;
  const lead = target[0];
  const rowLength = target[1];
  const rows = lead === -1 || (lead === 0 && !allowzero) || (lead !== undefined && lead > 0);
  if (target.length !== 2 || !rows || (rowLength !== chw && !(rowLength === -1 && lead !== -1))) {
    return `Reshape ${name} of "${t}" [N, ${channels}, ${spatial!.join(', ')}] to [${target.join(', ')}] is not [N, C*H*W] (${chw} features a row)`;
  }
  if (rowLength === -1) return { flat: { node: n, hw } };
  const own = ref.uses.length === 1 && ref.uses[0]!.node === n && !exclude.has(ref.name);
  if (!own) return `Reshape ${name}: shape "${shapeName}" is ${exclude.has(ref.name) ? 'excluded' : 'shared'}, so its ${chw} cannot be rewritten`;
  return {
    flat: { node: n, hw },
    rewrite: (kept) => {
      const to = [lead!, kept * hw];
      setTensorData(ref.tensor, OnnxType.INT64, [2], BigInt64Array.from(to.map(BigInt)));
      return `${name} shape "${shapeName}" [${target.join(', ')}] -> [${to.join(', ')}]`;
    },
  };
}

/**
 * The features of MatMul/Gemm `n`'s weight that channel c feeds: row block c (or column block with Gemm transB) of
 * HW rows each, HW = 1 without a flattening. The weight may be a constant seen through a Reshape of its own (mnist-8's
 * Parameter193 [16, 4, 4, 10] -> [256, 10]): the original is cut, keeping its rank where one of its axes is
 * the channel axis, and the Reshape's shape constant is rewritten.
 */
function featureSlice(
  model: ModelProto,
  n: NodeProto,
  weights: Map<string, WeightRef>,
  exclude: Set<string>,
  channels: number,
  flat: Flattened | undefined,
  uses: Map<string, Use[]>,
): { slice: Slice; rewrites: ((kept: number) => string)[]; activations: string[] } | string {
  const nop = n.opType!;
  const name = n.name || nop;
  let kAxis: number;
  if (nop === 'Gemm') {
    if (attrInt(n, 'transA', 0) !== 0) return `consumer ${name} has transA`;
    kAxis = attrInt(n, 'transB', 0) ? 1 : 0;
  } else kAxis = 0;
  const wName = n.input[1] ?? '';
  let ref: WeightRef | string;
  let dims2: number[];
  let reshape: { node: NodeProto; shape: WeightRef } | undefined;
  const direct = weights.get(wName);
  if (direct) {
    ref = ownWeight(direct, n, 1, exclude);
    if (typeof ref === 'string') return `consumer ${name}: ${ref}`;
    dims2 = tensorDims(ref.tensor);
  } else {
    // A constant reshaped in the graph, read only by this consumer.
    const r = model.graph!.node.find((x) => x.output[0] === wName);
    const shape = r && r.opType === 'Reshape' && (r.domain ?? '') === '' ? weights.get(r.input[1] ?? '') : undefined;
    if (!r || !shape || shape.tensor.dataType !== OnnxType.INT64) return `consumer ${name}: ${nop} input 1 is not a constant`;
    if ((uses.get(wName) ?? []).length !== 1) return `consumer ${name}: ${nop} input 1 "${wName}" is shared`;
    ref = ownWeight(weights.get(r.input[0] ?? ''), r, 0, exclude);
    if (typeof ref === 'string') return `consumer ${name}: ${ref}`;
    if (shape.overridable || shape.uses.length !== 1 || exclude.has(shape.name)) return `consumer ${name}: shape "${shape.name}" of the Reshape of its weight is shared or overridable`;
    const target = readIntegers(shape.tensor);
    const count = tensorDims(ref.tensor).reduce((a, b) => a * b, 1);
    const known = target.filter((d) => d > 0).reduce((a, b) => a * b, 1);
    if (target.length !== 2 || target.some((d) => d === 0) || target.filter((d) => d === -1).length > 1 || count % known) {
      return `consumer ${name}: weight Reshape to [${target.join(', ')}] is not a plain 2-D reshape`;
    }
    dims2 = target.map((d) => (d === -1 ? count / known : d));
    reshape = { node: r, shape };
  }
  if (dims2.length !== 2) return `consumer ${name} weight is not 2-D`;
  const k = dims2[kAxis]!;
  const hw = flat ? (flat.hw ?? k / channels) : 1;
  if (k !== channels * hw || !Number.isInteger(hw)) {
    return flat
      ? `consumer ${name} reads ${k} features, not ${channels} channels x ${flat.hw ?? 'H*W'} after ${flat.node.opType}`
      : `consumer ${name} reads ${k} channels, not ${channels}`;
  }
  const other = dims2[1 - kAxis]!;
  const view = kAxis === 0 ? [channels, hw, other] : [other, channels, hw];
  const axis = kAxis === 0 ? 0 : 1;
  const cut2 = (kept: number): number[] => (kAxis === 0 ? [kept * hw, other] : [other, kept * hw]);
  const own = tensorDims(ref.tensor);
  // An axis of the stored tensor that is exactly the channel axis of the view keeps the tensor's rank.
  const outer = axis === 0 ? 1 : other;
  let p = 1;
  let rankAxis = -1;
  for (let i = 0; i < own.length && p <= outer; i++) {
    if (p === outer && own[i] === channels && own.slice(i + 1).reduce((a, b) => a * b, 1) === view.slice(axis + 1).reduce((a, b) => a * b, 1)) rankAxis = i;
    p *= own[i]!;
  }
  const after = (kept: number): number[] => (rankAxis >= 0 ? own.map((d, i) => (i === rankAxis ? kept : d)) : cut2(kept));
  const rewrites: ((kept: number) => string)[] = [];
  const activations: string[] = [];
  if (reshape) {
    const { shape } = reshape;
    const before = readIntegers(shape.tensor);
    activations.push(wName);
    rewrites.push((kept) => {
      const to = cut2(kept);
      setTensorData(shape.tensor, OnnxType.INT64, [2], BigInt64Array.from(to.map(BigInt)));
      return `${reshape.node.name || 'Reshape'} shape "${shape.name}" [${before.join(', ')}] -> [${to.join(', ')}]`;
    });
  }
  return { slice: { ref, axis, view, after }, rewrites, activations };
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
