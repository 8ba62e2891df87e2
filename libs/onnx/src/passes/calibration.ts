import { EntropyObserver, LeptonError, MinMaxObserver, MseObserver, PercentileObserver, type RangeObserver } from '@lepton/tensor-core';
import { OnnxType, type ModelProto, type NodeProto } from '../proto/types';
import { makeValueInfo } from '../graph';
import { inferElemTypes } from '../infer-types';
import { encodeModel } from '../proto/codec';
import { findWeights, reshapedWeights } from '../weights';
import { workingCopy, type ModelInput } from './common';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

/** Ops whose float inputs and outputs the static pass quantizes. */
export const STATIC_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export interface StaticSelection {
  excludeNodes?: string[];
  excludeOps?: string[];
}

/** Main-graph nodes the static pass will quantize, after exclusions. */
export function staticNodes(model: ModelProto, sel: StaticSelection = {}): NodeProto[] {
  const nodes = new Set(sel.excludeNodes ?? []);
  const ops = new Set(sel.excludeOps ?? []);
  return model.graph!.node.filter(
    (n) => (n.domain ?? '') === '' && STATIC_OPS.has(n.opType ?? '') && !ops.has(n.opType!) && !nodes.has(n.name ?? ''),
  );
}

/** Float activations (not constants) read or written by the selected nodes: the tensors that get Q/DQ pairs. */
export function activationTensors(model: ModelProto, sel: StaticSelection = {}): string[] {
  const types = inferElemTypes(model);
  const weights = findWeights(model).filter((w) => !w.overridable);
  const constants = new Set(weights.map((w) => w.name));
  // A weight behind a constant Reshape is a weight too, not an activation.
  const floats = new Map(weights.filter((w) => w.tensor.dataType === OnnxType.FLOAT).map((w) => [w.name, w]));
  for (const w of reshapedWeights(model, floats)) constants.add(w.name);
  const out = new Set<string>();
  for (const n of staticNodes(model, sel)) {
    // Bias (input 2) is quantized to int32 from the other scales, never calibrated.
    for (const name of [...n.input.slice(0, 2), n.output[0] ?? '']) {
      if (name && !constants.has(name) && types.get(name) === OnnxType.FLOAT) out.add(name);
    }
  }
  return [...out];
}

/**
 * The model with every activation the static pass needs added as a graph output, for running calibration data
 * through any runtime. Returns the bytes and the tensor names to observe.
 */
export function calibrationModel(input: ModelInput, sel: StaticSelection = {}): { model: Uint8Array; tensors: string[] } {
  const model = workingCopy(input);
  const tensors = activationTensors(model, sel);
  const existing = new Set(model.graph!.output.map((o) => o.name));
  for (const t of tensors) if (!existing.has(t)) model.graph!.output.push(makeValueInfo(t, OnnxType.FLOAT));
  return { model: encodeModel(model), tensors };
}

export interface CalibratorOptions {
  method?: CalibrationMethod;
  /** Percentile kept by the 'percentile' method (default 99.999). */
  percentile?: number;
}

/** Collects ranges per tensor from calibration outputs with tensor-core's observers. */
export class Calibrator {
  private readonly observers = new Map<string, RangeObserver>();
  readonly method: CalibrationMethod;
  samples = 0;

  constructor(readonly tensors: string[], options: CalibratorOptions = {}) {
    this.method = options.method ?? 'minmax';
    for (const t of tensors) this.observers.set(t, makeObserver(this.method, options.percentile));
  }

  /** Add the outputs of one run of the calibration model (name -> float32 data). */
  observe(outputs: Record<string, { data: unknown; dims?: readonly number[] }>): void {
    for (const [name, obs] of this.observers) {
      const v = outputs[name];
      if (!v) throw new LeptonError('VALIDATION_FAILED', `calibration outputs lack tensor ${JSON.stringify(name)}; run the model from calibrationModel() and pass all its outputs`);
      if (!(v.data instanceof Float32Array)) throw new LeptonError('TENSOR_DTYPE_MISMATCH', `calibration tensor ${JSON.stringify(name)} is not float32 data`);
      obs.observe(v.data);
    }
    this.samples++;
  }

  /**
   * NaN and Infinity values each observer skipped so far, for the activations that had any: the ranges ignore
   * them (a NaN must not poison a range), and the report says how many there were, so dirty data is seen.
   */
  skippedNonFinite(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, obs] of this.observers) {
      const n = obs.range().skippedNonFinite;
      if (n > 0) out[name] = n;
    }
    return out;
  }

  ranges(): Record<string, { min: number; max: number }> {
    const out: Record<string, { min: number; max: number }> = {};
    for (const [name, obs] of this.observers) {
      const r = obs.range();
      out[name] = { min: r.min, max: r.max };
    }
    return out;
  }
}

function makeObserver(method: CalibrationMethod, percentile: number | undefined): RangeObserver {
  switch (method) {
    case 'minmax':
      return new MinMaxObserver();
    case 'percentile':
      return new PercentileObserver({ percentile: percentile ?? 99.999 });
    case 'entropy':
      return new EntropyObserver();
    case 'mse':
      return new MseObserver();
    default:
      throw new LeptonError('VALIDATION_FAILED', `calibration method is ${String(method)}; expected minmax, percentile, entropy or mse`);
  }
}

