import { NameScope, outputNames } from '../graph';
import { OnnxType, type ModelProto } from '../proto/types';
import { readFloat32, tensorDims } from '../tensors';
import { findWeights, type WeightRef } from '../weights';
import { defaultOpset, opsetBlockers, requireOpset } from '../opset';
import { finish, replaceWithDequantize, stampPass, weightPath, workingCopy, type ModelInput, type PassResult } from './common';
import { channelAxis, isWeightSlot, needsExactFloat32 } from './slots';
import { maxQuantError, quantizeWeight, type WeightDType } from './weight-quant';

export interface Int8WeightOptions {
  /** int8 (symmetric, default) or uint8 (asymmetric). */
  dtype?: WeightDType;
  /** One scale per output channel on the axis each op needs (default true); needs opset 13. */
  perChannel?: boolean;
  reduceRange?: boolean;
  /** Weights of Conv/Gemm/MatMul/RNNs with at least this many values are quantized (default 16). */
  minWeightElements?: number;
  /** Any other float32 constant above this many values is quantized too (default 256, i.e. over 1 KiB). */
  minOtherElements?: number;
  /** Tensor names never quantized. */
  exclude?: string[];
}

export interface QuantizedTensorReport {
  name: string;
  location: 'initializer' | 'constant';
  graph: string;
  shape: number[];
  axis: number | null;
  scales: number;
  bytesBefore: number;
  bytesAfter: number;
  maxAbsError: number;
}

export interface KeptTensorReport {
  name: string;
  graph: string;
  bytes: number;
  reason: string;
}

export interface Int8WeightReport {
  pass: 'int8-weight';
  options: Required<Omit<Int8WeightOptions, 'exclude'>> & { exclude: string[] };
  opsetBefore: number;
  opsetAfter: number;
  quantized: QuantizedTensorReport[];
  /** Float32 constants larger than 1 KiB that were left as they were, and why. */
  kept: KeptTensorReport[];
  notes: string[];
}

/** Why a float32 constant cannot be quantized (undefined if it can). Shared with inspect's "what each pass could do". */
export function weightBlocker(w: WeightRef, outputs: Set<string>, minWeight: number, minOther: number, exclude: Set<string>): string | undefined {
  if (w.tensor.dataType !== OnnxType.FLOAT) return 'not float32';
  if (exclude.has(w.name)) return 'excluded by option';
  if (w.overridable) return 'listed as a graph input, so callers may override it';
  if (outputs.has(w.name)) return 'also a graph output';
  if (w.uses.length === 0) return 'unused';
  for (const use of w.uses) {
    const exact = needsExactFloat32(use);
    if (exact) return `read as ${exact}`;
  }
  const weightUse = w.uses.some(isWeightSlot);
  if (w.elements < (weightUse ? minWeight : minOther)) return `small (${w.elements} values)`;
  return undefined;
}

/** The per-channel axis all consumers agree on, or undefined (per-tensor). */
export function agreedAxis(w: WeightRef): number | undefined {
  const rank = w.tensor.dims.length;
  const axes = new Set(w.uses.map((u) => channelAxis(u, rank)));
  if (axes.size !== 1) return undefined;
  const axis = [...axes][0];
  return axis !== undefined && tensorDims(w.tensor)[axis]! > 1 ? axis : undefined;
}

/**
 * Weight-only int8: every float32 weight becomes an int8 (or uint8) tensor plus a DequantizeLinear, per channel
 * on the axis its op needs. Weights are found in initializers and Constant nodes, in the main graph and in every
 * If/Loop/Scan subgraph. Activations stay float32, so the model runs on any runtime that has DequantizeLinear.
 */
export function quantizeWeightsInt8(input: ModelInput, options: Int8WeightOptions = {}): PassResult<Int8WeightReport> {
  const model = workingCopy(input);
  const opts = {
    dtype: options.dtype ?? 'int8',
    perChannel: options.perChannel ?? true,
    reduceRange: options.reduceRange ?? false,
    minWeightElements: options.minWeightElements ?? 16,
    minOtherElements: options.minOtherElements ?? 256,
    exclude: options.exclude ?? [],
  } as Int8WeightReport['options'];
  const report: Int8WeightReport = { pass: 'int8-weight', options: opts, opsetBefore: defaultOpset(model), opsetAfter: 0, quantized: [], kept: [], notes: [] };
  const outputs = outputNames(model.graph!);
  const exclude = new Set(opts.exclude);
  const selected: { w: WeightRef; axis: number | undefined }[] = [];
  for (const w of findWeights(model)) {
    const why = weightBlocker(w, outputs, opts.minWeightElements, opts.minOtherElements, exclude);
    if (why) {
      if (w.tensor.dataType === OnnxType.FLOAT && w.bytes > 1024) report.kept.push({ name: w.name, graph: w.scope.path, bytes: w.bytes, reason: why });
      continue;
    }
    selected.push({ w, axis: opts.perChannel ? agreedAxis(w) : undefined });
  }
  const perChannel = selectOpset(model, selected, report);
  const names = new NameScope(model.graph!);
  for (const { w, axis } of selected) {
    const x = readFloat32(w.tensor);
    const dims = tensorDims(w.tensor);
    const q = quantizeWeight(x, dims, { dtype: opts.dtype, axis: perChannel ? axis : undefined, reduceRange: opts.reduceRange });
    report.quantized.push({
      name: weightPath(w),
      location: w.location,
      graph: w.scope.path,
      shape: dims,
      axis: q.axis ?? null,
      scales: q.scale.length,
      bytesBefore: w.bytes,
      bytesAfter: (q.data as Uint8Array).byteLength + q.scale.byteLength + q.zeroPoint.byteLength,
      maxAbsError: maxQuantError(x, dims, q),
    });
    replaceWithDequantize(w, q, names);
  }
  report.opsetAfter = defaultOpset(model);
  stampPass(model, 'int8-weight', opts);
  return finish(model, report);
}

/**
 * DequantizeLinear needs opset 10, per-axis scales opset 13. Raise the opset when that changes no node's meaning;
 * otherwise fall back to per-tensor scales (opset 10), and say so in the report.
 */
function selectOpset(model: ModelProto, selected: { axis: number | undefined }[], report: Int8WeightReport): boolean {
  if (selected.length === 0) return false;
  const wantsAxis = selected.some((s) => s.axis !== undefined);
  if (wantsAxis && opsetBlockers(model, 13).length === 0) {
    requireOpset(model, 13, 'per-channel DequantizeLinear');
    return true;
  }
  if (wantsAxis) report.notes.push(`per-channel scales need opset 13; kept opset ${defaultOpset(model)} and used per-tensor scales because of ${opsetBlockers(model, 13).join(', ')}`);
  requireOpset(model, 10, 'DequantizeLinear');
  return false;
}
