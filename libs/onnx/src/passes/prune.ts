import { LeptonError } from '@lepton/tensor-core';
import { allGraphs, outputNames } from '../graph';
import { OnnxType } from '../proto/types';
import { readFloat32, setTensorData, tensorDims } from '../tensors';
import { findWeights } from '../weights';
import { finish, stampPass, weightPath, workingCopy, type ModelInput, type PassResult } from './common';
import { pruneChannels, type PrunedChannelsReport } from './prune-channels';
import { isWeightSlot, needsExactFloat32 } from './slots';

export interface PruneOptions {
  /**
   * Unstructured: the fraction of each weight tensor set to zero. Channels: the fraction of each prunable
   * producer's output channels removed. In [0, 1).
   */
  sparsity: number;
  /** `unstructured` (default): zeros in place, same shapes. `channels`: structured, whole channels removed where safe. */
  mode?: 'unstructured' | 'channels';
  /** Weights with fewer values are left dense (default 16). */
  minElements?: number;
  exclude?: string[];
}

export interface PrunedTensorReport {
  name: string;
  graph: string;
  shape: number[];
  elements: number;
  /** Zeros after pruning / elements (zeros already present count too). */
  sparsity: number;
  /** Largest magnitude set to zero. */
  threshold: number;
}

export interface PruneReport {
  pass: 'prune';
  options: Required<PruneOptions>;
  tensors: PrunedTensorReport[];
  /** Mode `channels`: each producer -> consumer pair whose channels were removed. */
  channels: PrunedChannelsReport[];
  /**
   * Unstructured: zeros over all pruned tensors / their values. Channels: weight values removed / values the
   * sliced tensors had.
   */
  overallSparsity: number;
  notes: string[];
}

/**
 * Magnitude pruning. Mode `channels` removes whole channels where that is safe (see `pruneChannels`); the default
 * is unstructured: in each weight of Conv, ConvTranspose, Gemm, MatMul and the RNNs, the
 * `sparsity` fraction of values with the smallest magnitude become 0 (ties at the threshold broken by position, so
 * the count is exact). Biases and other constants are left alone: they are small and pruning them saves nothing.
 * The file keeps its dense layout; the zeros pay off after compression (gzip/brotli) or in sparse kernels.
 */
export function pruneWeights(input: ModelInput, options: PruneOptions): PassResult<PruneReport> {
  const s = options?.sparsity;
  if (typeof s !== 'number' || !(s >= 0 && s < 1)) {
    throw new LeptonError('VALIDATION_FAILED', `sparsity is ${String(s)}; expected a number in [0, 1)`);
  }
  const model = workingCopy(input);
  const mode = options.mode ?? 'unstructured';
  if (mode !== 'unstructured' && mode !== 'channels') {
    throw new LeptonError('VALIDATION_FAILED', `prune mode is ${JSON.stringify(mode)}; expected "unstructured" or "channels"`);
  }
  const opts: Required<PruneOptions> = { sparsity: s, mode, minElements: options.minElements ?? 16, exclude: options.exclude ?? [] };
  const report: PruneReport = { pass: 'prune', options: opts, tensors: [], channels: [], overallSparsity: 0, notes: [] };
  const exclude = new Set(opts.exclude);
  if (mode === 'channels') {
    const r = pruneChannels(model, s, exclude);
    report.channels = r.pairs;
    report.notes = [...r.skipped, ...subgraphLayersNote(model)];
    report.overallSparsity = r.valuesBefore ? 1 - r.valuesAfter / r.valuesBefore : 0;
    stampPass(model, 'prune', opts);
    return finish(model, report);
  }
  const outputs = outputNames(model.graph!);
  let zeros = 0;
  let total = 0;
  for (const w of findWeights(model)) {
    if (w.tensor.dataType !== OnnxType.FLOAT || w.overridable || outputs.has(w.name) || exclude.has(w.name)) continue;
    if (w.elements < opts.minElements || w.uses.length === 0) continue;
    if (!w.uses.every(isWeightSlot) || w.uses.some((u) => needsExactFloat32(u))) continue;
    const x = Float32Array.from(readFloat32(w.tensor));
    const threshold = pruneInPlace(x, s);
    let z = 0;
    for (let i = 0; i < x.length; i++) if (x[i] === 0) z++;
    setTensorData(w.tensor, OnnxType.FLOAT, tensorDims(w.tensor), x);
    report.tensors.push({ name: weightPath(w), graph: w.scope.path, shape: tensorDims(w.tensor), elements: x.length, sparsity: z / x.length, threshold });
    zeros += z;
    total += x.length;
  }
  report.overallSparsity = total ? zeros / total : 0;
  stampPass(model, 'prune', opts);
  return finish(model, report);
}

/** Layers channel pruning does not look at: those inside If/Loop/Scan subgraphs (it cuts the main graph only). */
function subgraphLayersNote(model: ReturnType<typeof workingCopy>): string[] {
  const LAYERS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
  const inside = allGraphs(model.graph!).slice(1).flatMap((scope) => scope.graph.node.filter((n) => LAYERS.has(n.opType ?? '')));
  if (inside.length === 0) return [];
  const ops = [...new Set(inside.map((n) => n.opType))].sort().join('/');
  return [`${inside.length} ${ops} node${inside.length === 1 ? '' : 's'} inside If/Loop/Scan subgraphs: channel pruning cuts the main graph only`];
}

/** Zero the round(sparsity * n) smallest-magnitude values; returns the largest magnitude zeroed (0 if none). */
export function pruneInPlace(x: Float32Array, sparsity: number): number {
  const k = Math.round(sparsity * x.length);
  if (k === 0) return 0;
  const order = new Uint32Array(x.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // NaN sorts last (never pruned: it is a fault to report, not a small weight).
  const mag = (i: number): number => (Number.isNaN(x[i]!) ? Infinity : Math.abs(x[i]!));
  order.sort((a, b) => mag(a) - mag(b) || a - b);
  let threshold = 0;
  for (let j = 0; j < k; j++) {
    const i = order[j]!;
    threshold = Math.max(threshold, Math.abs(x[i]!));
    x[i] = 0;
  }
  return threshold;
}
