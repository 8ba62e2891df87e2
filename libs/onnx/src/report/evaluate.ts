import { LeptonError } from '@lepton/tensor-core';
import { AccuracyAccumulator, type AccumulatorOptions } from './accuracy';
import type { AccuracyReport } from './schema';

/** What the evaluation needs from a runtime: onnxruntime-node and -web sessions fit as they are. */
export interface Runner {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims?: readonly number[] }>>;
}
export type CreateRunner = (modelBytes: Uint8Array) => Promise<Runner>;

export interface Sample {
  feeds: Record<string, unknown>;
  label?: number;
}

export interface EvaluateOptions extends AccumulatorOptions {
  variant: string;
  /** Milliseconds clock (performance.now on every platform that has it). */
  now?: () => number;
  machine?: string;
  passReport?: unknown;
}

/**
 * Run every sample through the reference and the variant, alternating between them so both see the same machine
 * state, and report accuracy against the reference, size and the latency ratio.
 */
export async function evaluateVariant(
  reference: Uint8Array,
  variant: Uint8Array,
  samples: Iterable<Sample> | AsyncIterable<Sample>,
  createRunner: CreateRunner,
  options: EvaluateOptions,
): Promise<AccuracyReport> {
  const ref = await createRunner(reference);
  const cand = await createRunner(variant);
  const acc = new AccuracyAccumulator(options);
  const now = options.now ?? (() => Date.now());
  let refMs = 0;
  let varMs = 0;
  let runs = 0;
  for await (const s of samples) {
    const t0 = now();
    const a = await ref.run(s.feeds);
    const t1 = now();
    const b = await cand.run(s.feeds);
    const t2 = now();
    refMs += t1 - t0;
    varMs += t2 - t1;
    runs++;
    acc.add(floats(a, options), floats(b, options), s.label);
  }
  if (runs === 0) throw new LeptonError('VALIDATION_FAILED', 'evaluation got no samples; expected at least one');
  const latency = { runs, meanMs: varMs / runs, referenceMeanMs: refMs / runs, ratio: refMs > 0 ? varMs / refMs : 0 };
  return acc.finish(options.variant, { bytes: variant.length, referenceBytes: reference.length }, {
    latency,
    ...(options.machine ? { machine: options.machine } : {}),
    ...(options.passReport !== undefined ? { passReport: options.passReport } : {}),
  });
}

function floats(out: Record<string, { data: unknown }>, options: AccumulatorOptions): Record<string, Float32Array> {
  const r: Record<string, Float32Array> = {};
  for (const o of options.outputs) {
    const d = out[o.name]?.data;
    if (!(d instanceof Float32Array)) throw new LeptonError('TENSOR_DTYPE_MISMATCH', `output ${JSON.stringify(o.name)} is not float32; expected float32 scores`);
    r[o.name] = d;
  }
  return r;
}
