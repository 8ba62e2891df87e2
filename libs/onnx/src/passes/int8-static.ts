import { LeptonError, quantParamsFromRange, roundHalfEven } from '@lepton/tensor-core';
import { NameScope, allGraphs, attrInt, makeNode, usesByName, type GraphScope } from '../graph';
import { OnnxType, type ModelProto, type NodeProto } from '../proto/types';
import { makeTensor, readFloat32, tensorDims } from '../tensors';
import { findWeights, reshapedWeights, type WeightRef } from '../weights';
import { defaultOpset, requireOpset } from '../opset';
import { dropUnused, finish, replaceWithDequantize, stampPass, workingCopy, type ModelInput, type PassResult } from './common';
import { activationTensors, staticNodes, type CalibrationMethod, type StaticSelection } from './calibration';
import { channelAxis } from './slots';
import { quantizeWeight } from './weight-quant';

export interface Int8StaticOptions extends StaticSelection {
  /**
   * uint8 activations (asymmetric, default) or int8 (symmetric). With uint8 activations and int8 weights the
   * integer kernels are u8s8, which saturates on AVX2 CPUs without VNNI; see reduceRange.
   */
  activationType?: 'uint8' | 'int8';
  perChannel?: boolean;
  /** 7-bit weights; default true with uint8 activations (exact on every CPU), false with int8 activations. */
  reduceRange?: boolean;
  /** Recorded in the report. */
  calibrationMethod?: CalibrationMethod;
  calibrationSamples?: number;
  /** NaN/Infinity values the observers skipped, per activation (see Calibrator.skippedNonFinite). */
  calibrationSkippedNonFinite?: Record<string, number>;
}

export interface Int8StaticReport {
  pass: 'int8-static';
  options: { activationType: 'uint8' | 'int8'; perChannel: boolean; reduceRange: boolean; excludeNodes: string[]; excludeOps: string[] };
  /** skippedNonFinite (present only when some were): NaN/Inf calibration values left out of each range. */
  calibration: { method: CalibrationMethod | 'given'; samples: number | null; skippedNonFinite?: Record<string, number> };
  opsetBefore: number;
  opsetAfter: number;
  activations: { name: string; min: number; max: number; scale: number; zeroPoint: number }[];
  weights: { name: string; axis: number | null; scales: number }[];
  biases: { name: string; scales: number }[];
  nodes: string[];
}

type Ranges = Record<string, { min: number; max: number }>;

/**
 * Static QDQ quantization from calibrated ranges (see calibrationModel and Calibrator): every float activation read
 * or written by Conv, ConvTranspose, Gemm and MatMul gets a QuantizeLinear/DequantizeLinear pair, weights become
 * int8 per channel, biases int32 with scale input_scale * weight_scale[c] and no zero point (an int32 zero point
 * is rejected by some WebGPU kernels). onnxruntime fuses the pattern into integer kernels.
 */
export function quantizeStatic(input: ModelInput, ranges: Ranges, options: Int8StaticOptions = {}): PassResult<Int8StaticReport> {
  const model = workingCopy(input);
  const actType = options.activationType ?? 'uint8';
  const opts = {
    activationType: actType,
    perChannel: options.perChannel ?? true,
    reduceRange: options.reduceRange ?? actType === 'uint8',
    excludeNodes: options.excludeNodes ?? [],
    excludeOps: options.excludeOps ?? [],
  };
  const report: Int8StaticReport = {
    pass: 'int8-static',
    options: opts,
    calibration: {
      method: options.calibrationMethod ?? 'given',
      samples: options.calibrationSamples ?? null,
      ...(Object.keys(options.calibrationSkippedNonFinite ?? {}).length > 0 ? { skippedNonFinite: { ...options.calibrationSkippedNonFinite } } : {}),
    },
    opsetBefore: defaultOpset(model),
    opsetAfter: 0,
    activations: [],
    weights: [],
    biases: [],
    nodes: [],
  };
  const tensors = activationTensors(model, opts);
  for (const t of tensors) {
    if (!ranges[t]) throw new LeptonError('VALIDATION_FAILED', `no calibrated range for activation ${JSON.stringify(t)}; calibrate with calibrationModel() on this model`);
  }
  const nodes = staticNodes(model, opts);
  if (nodes.length === 0) return finish(model, report);
  requireOpset(model, opts.perChannel ? 13 : 10, 'QDQ quantization');
  const names = new NameScope(model.graph!);
  const main = allGraphs(model.graph!)[0]!;
  const params = new Map<string, { scale: number; zeroPoint: number }>();
  // Readers are rewired to the dequantized tensors below; biases need the original input names.
  const inputOf = new Map(nodes.map((n) => [n, n.input[0] ?? '']));
  const readers = usesByName(model.graph!);
  for (const t of tensors) {
    const r = ranges[t]!;
    const p = quantParamsFromRange(Math.min(r.min, 0), Math.max(r.max, 0), { dtype: actType, symmetric: actType === 'int8' });
    params.set(t, p);
    // A graph output nothing reads needs no pair: it would only produce a dangling tensor.
    if ((readers.get(t)?.length ?? 0) > 0) insertQdq(main, t, p, actType, names);
    report.activations.push({ name: t, min: r.min, max: r.max, scale: p.scale, zeroPoint: p.zeroPoint });
  }
  quantizeNodeWeights(model, nodes, inputOf, params, opts, names, report);
  report.nodes = nodes.map((n) => n.name || n.output[0]!);
  report.opsetAfter = defaultOpset(model);
  stampPass(model, 'int8-static', { ...opts, calibration: report.calibration });
  return finish(model, report);
}

/** t -> QuantizeLinear -> DequantizeLinear -> t_dq right after t's producer; every reader of t reads t_dq. */
function insertQdq(scope: GraphScope, t: string, p: { scale: number; zeroPoint: number }, actType: 'uint8' | 'int8', names: NameScope): void {
  const graph = scope.graph;
  const zpType = actType === 'uint8' ? OnnxType.UINT8 : OnnxType.INT8;
  const s = names.fresh(`${t}_scale`);
  const z = names.fresh(`${t}_zero_point`);
  graph.initializer.push(makeTensor(s, OnnxType.FLOAT, [], Float32Array.of(p.scale)));
  graph.initializer.push(makeTensor(z, zpType, [], actType === 'uint8' ? Uint8Array.of(p.zeroPoint) : Int8Array.of(p.zeroPoint)));
  const q = names.fresh(`${t}_quantized`);
  const dq = names.fresh(`${t}_dequantized`);
  for (const { graph: g } of allGraphs(graph)) for (const n of g.node) n.input = n.input.map((x) => (x === t ? dq : x));
  const pair = [
    makeNode('QuantizeLinear', [t, s, z], [q], names.fresh(`${t}_QuantizeLinear`)),
    makeNode('DequantizeLinear', [q, s, z], [dq], names.fresh(`${t}_DequantizeLinear`)),
  ];
  const at = graph.node.findIndex((n) => n.output.includes(t));
  graph.node.splice(at + 1, 0, ...pair);
}

function quantizeNodeWeights(
  model: ModelProto,
  nodes: NodeProto[],
  inputOf: Map<NodeProto, string>,
  params: Map<string, { scale: number; zeroPoint: number }>,
  opts: Int8StaticReport['options'],
  names: NameScope,
  report: Int8StaticReport,
): void {
  const floatWeights = new Map<string, WeightRef>();
  for (const w of findWeights(model)) if (w.tensor.dataType === OnnxType.FLOAT && !w.overridable) floatWeights.set(w.name, w);
  for (const w of reshapedWeights(model, floatWeights)) floatWeights.set(w.name, w);
  const done = new Map<string, { scale: Float32Array; axis?: number }>();
  const freed: string[] = [];
  for (const node of nodes) {
    const w = floatWeights.get(node.input[1] ?? '');
    if (!w) continue;
    let q = done.get(w.name);
    if (!q) {
      const use = w.uses.find((u) => u.node === node)!;
      const rank = tensorDims(w.tensor).length;
      const axes = new Set(w.uses.map((u) => channelAxis(u, rank)));
      const axis = opts.perChannel && axes.size === 1 ? channelAxis(use, rank) : undefined;
      const qw = quantizeWeight(readFloat32(w.tensor), tensorDims(w.tensor), { dtype: 'int8', axis, reduceRange: opts.reduceRange });
      if (w.reshapedFrom) {
        const reshape = w.scope.graph.node.find((n) => n.opType === 'Reshape' && n.output[0] === w.name);
        freed.push(...(reshape?.input ?? []));
      }
      replaceWithDequantize(w, qw, names);
      q = { scale: qw.scale, ...(qw.axis === undefined ? {} : { axis: qw.axis }) };
      done.set(w.name, q);
      report.weights.push({ name: w.name, axis: qw.axis ?? null, scales: qw.scale.length });
    }
    quantizeBias(node, floatWeights, params.get(inputOf.get(node) ?? ''), q, tensorDims(w.tensor), names, report);
  }
  const byName = new Set(freed);
  dropUnused(model, findWeights(model).filter((o) => byName.has(o.name)));
}

/** int32 bias with scale input_scale * weight_scale[c], zero point omitted (0), when its channels line up. */
function quantizeBias(
  node: NodeProto,
  weights: Map<string, WeightRef>,
  input: { scale: number } | undefined,
  w: { scale: Float32Array; axis?: number },
  wDims: number[],
  names: NameScope,
  report: Int8StaticReport,
): void {
  const b = weights.get(node.input[2] ?? '');
  const op = node.opType;
  if (!b || !input || (op !== 'Conv' && op !== 'ConvTranspose' && op !== 'Gemm') || b.uses.length !== 1) return;
  const values = readFloat32(b.tensor);
  if (tensorDims(b.tensor).length !== 1) return;
  const perWeight = w.axis === undefined ? 1 : wDims[w.axis]!;
  // A grouped ConvTranspose's weight axis 1 holds Cout / group: output channel o is made by weight column
  // o mod (Cout / group) of its group, so its bias scale is input_scale * weight_scale[o mod (Cout / group)].
  const group = op === 'ConvTranspose' ? attrInt(node, 'group', 1) : 1;
  if (perWeight !== 1 && perWeight * group !== values.length) return;
  const channels = perWeight === 1 ? 1 : values.length;
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = Math.fround(input.scale * w.scale[c % perWeight]!);
  const q = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = roundHalfEven(Math.fround(values[i]! / scale[channels === 1 ? 0 : i]!));
    q[i] = Math.max(-2147483648, Math.min(2147483647, v));
  }
  const qName = names.fresh(`${b.name}_quantized`);
  const sName = names.fresh(`${b.name}_scale`);
  const graph = b.scope.graph;
  graph.initializer.push(makeTensor(qName, OnnxType.INT32, [values.length], q));
  graph.initializer.push(makeTensor(sName, OnnxType.FLOAT, channels === 1 ? [] : [channels], scale));
  const attrs = channels === 1 ? [] : [{ name: 'axis', type: 2, i: 0, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] }];
  const dq = makeNode('DequantizeLinear', [qName, sName], [b.name], names.fresh(`${b.name}_DequantizeLinear`), attrs);
  if (b.location === 'initializer') {
    graph.initializer = graph.initializer.filter((t) => t !== b.tensor);
    graph.node.unshift(dq);
  } else graph.node.splice(graph.node.indexOf(b.node!), 1, dq);
  report.biases.push({ name: b.name, scales: channels });
}
