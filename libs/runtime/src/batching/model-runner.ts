import { BatchingSchema, type Batching, type ModelManifest } from '@lepton/contracts';
import type { Feeds } from '../feeds';
import type { Predictor } from '../predictor';
import { DynamicBatcher, type BatchExecution } from './batcher';
import type { BatchClock } from './clock';

export interface ModelRunnerOptions {
  /** One or more predictors of the same model (a session pool: each runs one request or batch at a time). */
  predictors: Predictor[];
  /** Overrides the manifest's `batching` (absent in both: no batching, queue of 256, 30 s timeout). */
  batching?: Partial<Batching>;
  onExecute?(e: BatchExecution): void;
  clock?: BatchClock;
  /** See BatcherOptions.defer: gather the requests of one event-loop turn into one batch. */
  defer?(fn: () => void): void;
}

export interface ModelRunner {
  readonly manifest: ModelManifest;
  /** The batching settings in force (maxBatchSize 1 when the model cannot batch). */
  readonly batching: Batching;
  /** Why requests of this model never share a run, or undefined when they can. */
  readonly unbatchableReason: string | undefined;
  readonly sessions: number;
  /** Validate (the same errors as Predictor.run), queue, run alone or in a batch; outputs of this request only. */
  run(feeds: Feeds): Promise<Feeds>;
  /** Requests queued or running. */
  pending(): number;
  /** Stop taking requests, reject queued ones, release every predictor. */
  release(): Promise<void>;
}

/**
 * Why a model's requests cannot be stacked along dim 0: stateful models carry per-caller state; every input and
 * output needs the same symbolic dim 0 (a fixed 1 is baked into the graph); packed 4-bit rows may split a byte.
 */
export function unbatchableReason(manifest: ModelManifest): string | undefined {
  if (manifest.state.length > 0) return 'the model is stateful (state pairs are per caller)';
  const constants = new Set(manifest.constants.map((c) => c.input));
  const specs = [...manifest.inputs.filter((s) => !constants.has(s.name)), ...manifest.outputs];
  let batchDim: string | undefined;
  for (const s of specs) {
    const d0 = s.shape[0];
    if (typeof d0 !== 'string') return `'${s.name}' has no symbolic dim 0 (shape [${s.shape.join(', ')}])`;
    if (batchDim !== undefined && d0 !== batchDim) return `'${s.name}' dim 0 is '${d0}', not the batch dim '${batchDim}'`;
    batchDim = d0;
    if (s.dtype === 'int4' || s.dtype === 'uint4') return `'${s.name}' is ${s.dtype} (packed rows)`;
  }
  return undefined;
}

export function createModelRunner(opts: ModelRunnerOptions): ModelRunner {
  const first = opts.predictors[0];
  if (first === undefined) throw new Error('createModelRunner needs at least one predictor');
  const manifest = first.manifest;
  const label = `${manifest.id}@${manifest.version}`;
  const reason = unbatchableReason(manifest);
  const config = BatchingSchema.parse({ ...manifest.batching, ...opts.batching });
  // A batch may not exceed the batch dim's maxShape, which the predictor enforces on the stacked feeds.
  const constants = new Set(manifest.constants.map((c) => c.input));
  for (const s of manifest.inputs) {
    const limit = s.maxShape?.[0];
    if (!constants.has(s.name) && limit !== undefined && limit > 0) config.maxBatchSize = Math.min(config.maxBatchSize, limit);
  }
  if (reason !== undefined) config.maxBatchSize = 1;
  const names = manifest.inputs.filter((s) => !constants.has(s.name)).map((s) => s.name);

  const batcher = new DynamicBatcher({
    config,
    workers: opts.predictors.length,
    label,
    execute: (feeds, worker) => opts.predictors[worker]!.runPrepared(feeds),
    keyOf(feeds) {
      if (config.maxBatchSize <= 1) return undefined;
      let key = '';
      for (const name of names) {
        const t = feeds[name];
        // Explicitly fed constants or a zero-row request make the request special: it runs alone.
        if (t === undefined || t.shape[0] === 0) return undefined;
        key += `${name}:${t.dtype}:${t.shape.slice(1).join('x')};`;
      }
      return Object.keys(feeds).length === names.length ? key : undefined;
    },
    rowsOf: (feeds) => feeds[names[0]!]?.shape[0] ?? 1,
    ...(opts.onExecute ? { onExecute: opts.onExecute } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.defer ? { defer: opts.defer } : {}),
  });

  return {
    manifest,
    batching: config,
    unbatchableReason: reason,
    sessions: opts.predictors.length,
    async run(given) {
      // Preprocess and reject a bad request before it can join (and spoil) a batch.
      return batcher.submit(opts.predictors[0]!.prepare(given));
    },
    pending: () => batcher.pending,
    async release() {
      batcher.close();
      await Promise.all(opts.predictors.map((p) => p.release()));
    },
  };
}
