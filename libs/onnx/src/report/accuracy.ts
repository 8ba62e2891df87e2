import { LeptonError, crossEntropy } from '@lepton/tensor-core';
import type { AccuracyReport, OutputComparison } from './schema';

export type Decision = 'argmax' | { threshold: number };

export interface OutputSpec {
  name: string;
  decision: Decision;
  /** Classes per row for argmax (the last dimension); required for argmax. */
  classes?: number;
}

export interface AccumulatorOptions {
  outputs: OutputSpec[];
  /** The output read as class scores against labels (labelled data); must be an argmax output. */
  labelOutput?: string;
  /** Scores are logits (default) or probabilities, for the cross-entropy. */
  scores?: 'logits' | 'probabilities';
}

interface Stats {
  agree: number;
  decisions: number;
  maxAbs: number;
  signal: number;
  noise: number;
}

type Outputs = Record<string, Float32Array>;

/**
 * Compares a variant with the reference sample by sample: feed both models the same input, then `add` their
 * outputs (and the label, for labelled data). Nothing is kept per sample except labelled scores, which are small.
 */
export class AccuracyAccumulator {
  private readonly stats = new Map<string, Stats>();
  private readonly refScores: number[] = [];
  private readonly varScores: number[] = [];
  private readonly labels: number[] = [];
  private samples = 0;

  constructor(private readonly options: AccumulatorOptions) {
    for (const o of options.outputs) {
      if (o.decision === 'argmax' && !(Number.isInteger(o.classes) && o.classes! > 0)) {
        throw new LeptonError('VALIDATION_FAILED', `output ${JSON.stringify(o.name)} uses argmax decisions but classes is ${String(o.classes)}; expected a positive integer`);
      }
      this.stats.set(o.name, { agree: 0, decisions: 0, maxAbs: 0, signal: 0, noise: 0 });
    }
  }

  add(reference: Outputs, variant: Outputs, label?: number): void {
    for (const o of this.options.outputs) {
      const a = reference[o.name];
      const b = variant[o.name];
      if (!a || !b || a.length !== b.length) {
        throw new LeptonError('TENSOR_SHAPE_MISMATCH', `output ${JSON.stringify(o.name)} has ${a?.length ?? 'no'} values in the reference and ${b?.length ?? 'no'} in the variant; expected equal lengths`);
      }
      const s = this.stats.get(o.name)!;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(b[i]! - a[i]!);
        if (d > s.maxAbs || Number.isNaN(d)) s.maxAbs = Number.isNaN(d) ? Infinity : d;
        s.signal += a[i]! * a[i]!;
        s.noise += d * d;
      }
      if (o.decision === 'argmax') {
        const k = o.classes!;
        for (let r = 0; r < a.length / k; r++) {
          s.decisions++;
          if (argmax(a, r * k, k) === argmax(b, r * k, k)) s.agree++;
        }
      } else {
        const t = o.decision.threshold;
        for (let i = 0; i < a.length; i++) {
          s.decisions++;
          if (a[i]! >= t === b[i]! >= t) s.agree++;
        }
      }
      if (label !== undefined && o.name === this.options.labelOutput) {
        for (let i = 0; i < a.length; i++) {
          this.refScores.push(a[i]!);
          this.varScores.push(b[i]!);
        }
        for (let r = 0; r < a.length / o.classes!; r++) this.labels.push(label);
      }
    }
    this.samples++;
  }

  /** The report; size and latency come from the caller, who wrote and timed the models. */
  finish(variant: string, size: { bytes: number; referenceBytes: number }, extra: Partial<Pick<AccuracyReport, 'latency' | 'machine' | 'passReport'>> = {}): AccuracyReport {
    const outputs: OutputComparison[] = this.options.outputs.map((o) => {
      const s = this.stats.get(o.name)!;
      return {
        name: o.name,
        decision: o.decision,
        agreement: s.decisions ? s.agree / s.decisions : 1,
        decisions: s.decisions,
        maxAbsDiff: s.maxAbs,
        sqnrDb: s.noise === 0 ? null : 10 * Math.log10(s.signal / s.noise),
      };
    });
    let labelled: AccuracyReport['labelled'] = null;
    const lo = this.options.outputs.find((o) => o.name === this.options.labelOutput);
    if (lo && this.labels.length > 0) {
      const k = lo.classes!;
      const from = this.options.scores ?? 'logits';
      labelled = {
        output: lo.name,
        accuracy: hits(this.varScores, k, this.labels) / this.labels.length,
        referenceAccuracy: hits(this.refScores, k, this.labels) / this.labels.length,
        meanCrossEntropy: crossEntropy(this.varScores, k, this.labels, { from }),
        referenceMeanCrossEntropy: crossEntropy(this.refScores, k, this.labels, { from }),
      };
    }
    return {
      variant,
      samples: this.samples,
      size: { ...size, ratio: size.referenceBytes ? size.bytes / size.referenceBytes : 0 },
      labelled,
      outputs,
      latency: extra.latency ?? null,
      ...(extra.machine ? { machine: extra.machine } : {}),
      ...(extra.passReport !== undefined ? { passReport: extra.passReport } : {}),
    };
  }
}

function argmax(x: Float32Array | number[], start: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[start + i]! > x[start + best]!) best = i;
  return best;
}

function hits(scores: number[], k: number, labels: number[]): number {
  let h = 0;
  for (let r = 0; r < labels.length; r++) if (argmax(scores, r * k, k) === labels[r]) h++;
  return h;
}
