import { performance } from 'node:perf_hooks';
import { LeptonError, isLeptonError, type Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor, type Batching, type InferResponse, type ModelManifest, type ModelRecord, type VadResult } from '@lepton/contracts';
import {
  createModelRunner,
  createPredictor,
  detectSpeech,
  manifestForVariant,
  unbatchableReason,
  type BatchExecution,
  type ByteSource,
  type Feeds,
  type ModelRunner,
  type OrtModule,
  type Predictor,
} from '@lepton/runtime';
import { threadedOrt } from '@lepton/node-platform';
import type { InferenceService, TensorInferCall, TensorInferResult, VadDetectCall } from '@lepton/api';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelRegistry } from '../registry/model-registry';

/** What the metrics (or anyone else) hear about inference; every hook is optional. */
export interface InferenceObserver {
  /** One finished infer request (tRPC or KServe), with its outcome. */
  onRequest?(e: { model: string; version: string; ok: boolean; code?: string; durationMs: number }): void;
  /** One model execution (a batch or a single request). */
  onExecute?(model: string, version: string, e: BatchExecution): void;
}

export interface ServerInferenceOptions {
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  ort: OrtModule;
  /** Largest decoded input tensor (bytes); default 64 MiB. */
  maxTensorBytes?: number;
  /** Sessions per model version, run side by side (default 2: one per core of a small machine). */
  sessionsPerModel?: number;
  /**
   * Where the pool's sessions run. onnxruntime-node runs `session.run` synchronously on the calling JavaScript
   * thread (inside a setImmediate). true: each session on its own worker thread (uses every core, but each run pays
   * a thread hop, measured ~140 us CPU on mnist-8). false: on the main thread (no hop; compute shares the HTTP
   * thread). 'auto' (default): the main thread for models that batch (the batch amortizes the compute and requests
   * gathered in one event-loop turn share a run), worker threads for models whose requests always run alone.
   */
  workerThreads?: boolean | 'auto';
  /** Overrides every model's manifest batching (the bench turns batching off and on with it). */
  batching?: Partial<Batching>;
  observer?: InferenceObserver;
}

const RECORD_TTL_MS = 2000;

interface Loaded {
  runner: ModelRunner;
  /** The model bytes, for the main-thread predictor VAD streams use (created on first use). */
  model: Uint8Array;
  /** The manifest with the served variant's session options merged (manifestForVariant). */
  manifest: ModelManifest;
  direct?: Promise<Predictor>;
}

/**
 * Inference on onnxruntime-node. Each model version gets a pool of sessions (created on first use from the fp32
 * variant's verified bytes, kept for the life of the server) behind a bounded queue with dynamic batching
 * (`@lepton/runtime` createModelRunner, configured by the manifest's `batching`). VAD streams use the first
 * session through their own predictor stream, so state never leaks between callers.
 */
export class ServerInference implements InferenceService {
  private readonly loaded = new Map<string, Promise<Loaded>>();
  private readonly ready = new Map<string, Loaded>();
  private readonly records = new Map<string, { record: ModelRecord; at: number }>();

  constructor(private readonly opts: ServerInferenceOptions) {}

  async infer(req: Parameters<InferenceService['infer']>[0]): Promise<InferResponse> {
    const feeds: Record<string, Tensor> = {};
    for (const wire of req.inputs) {
      if (wire.name in feeds) {
        throw new LeptonError('BAD_REQUEST', `input '${wire.name}' is given twice; each input may appear once`, { input: wire.name });
      }
      feeds[wire.name] = decodeWireTensor(wire, { maxBytes: this.opts.maxTensorBytes ?? 64 * 1024 * 1024 });
    }
    const res = await this.inferTensors({
      model: req.model,
      ...(req.version !== undefined ? { version: req.version } : {}),
      inputs: feeds,
      ...(req.outputs !== undefined ? { outputs: req.outputs } : {}),
    });
    const outputs = Object.entries(res.outputs).map(([name, t]) => encodeWireTensor(name, t, req.format));
    return { model: res.model, version: res.version, outputs, answeredBy: 'server', timings: res.timings };
  }

  async inferTensors(req: TensorInferCall): Promise<TensorInferResult> {
    const t0 = performance.now();
    let model = '(unknown)';
    let version = '';
    try {
      const record = await this.record(req.model, req.version);
      model = record.id;
      version = record.version;
      const { runner } = await this.load(record);
      const t1 = performance.now();
      const all = await runner.run(req.inputs);
      const inferenceMs = performance.now() - t1;
      const outputs = pick(all, req.outputs, record);
      this.opts.observer?.onRequest?.({ model, version, ok: true, durationMs: performance.now() - t0 });
      return { model, version, outputs, answeredBy: 'server', timings: { totalMs: performance.now() - t0, inferenceMs } };
    } catch (err) {
      const code = isLeptonError(err) ? err.code : 'INTERNAL';
      this.opts.observer?.onRequest?.({ model, version, ok: false, code, durationMs: performance.now() - t0 });
      throw err;
    }
  }

  vadDetect(req: VadDetectCall & { wav: Uint8Array }): Promise<VadResult> {
    return this.detect(req, req.wav);
  }

  vadDetectStream(req: VadDetectCall & { audio: AsyncIterable<Uint8Array> }): Promise<VadResult> {
    return this.detect(req, req.audio);
  }

  /** Model versions with loaded sessions and their queued + running requests (the pending-requests gauge). */
  pending(): { model: string; version: string; pending: number }[] {
    return [...this.ready.values()].map(({ runner }) => ({
      model: runner.manifest.id,
      version: runner.manifest.version,
      pending: runner.pending(),
    }));
  }

  /** Release every loaded session (server shutdown); queued requests are refused. */
  async close(): Promise<void> {
    const loaded = [...this.loaded.values()];
    this.loaded.clear();
    this.ready.clear();
    await Promise.all(
      loaded.map((p) =>
        p.then(async (l) => {
          await l.runner.release();
          await (await l.direct)?.release();
        }).catch(() => undefined),
      ),
    );
  }

  private async detect(req: VadDetectCall, audio: ByteSource): Promise<VadResult> {
    const t0 = performance.now();
    const record = await this.opts.registry.get(req.model, req.version);
    if (record.task !== 'vad') {
      throw new LeptonError('MODEL_NOT_VAD', `model ${record.id}@${record.version} is a ${record.task} model; vad.detect needs a vad model`, {
        model: record.id,
        task: record.task,
      });
    }
    const predictor = await this.directPredictor(record);
    const run = await detectSpeech(predictor, audio, req.options);
    return {
      model: record.id,
      version: record.version,
      segments: run.segments,
      chunks: run.chunks,
      durationSec: run.durationSec,
      sampleRate: run.sampleRate,
      source: { sampleRate: run.source.sampleRate, channels: run.source.channels, encoding: run.source.encoding },
      ...(req.includeProbabilities ? { probabilities: Array.from(run.probabilities) } : {}),
      ...(run.warnings ? { warnings: run.warnings } : {}),
      answeredBy: 'server',
      timings: { totalMs: performance.now() - t0, inferenceMs: run.inferenceMs },
    };
  }

  /**
   * VAD streams step chunk by chunk (thousands of tiny runs per file): a thread hop per step would cost more than
   * the step, so they use one main-thread predictor per model version.
   */
  private async directPredictor(record: ModelRecord): Promise<Predictor> {
    const loaded = await this.load(record);
    loaded.direct ??= createPredictor({ manifest: loaded.manifest, model: loaded.model, ort: this.opts.ort });
    loaded.direct.catch(() => (loaded.direct = undefined));
    return loaded.direct;
  }

  /**
   * Registry lookups cost two SQL queries, more than a small model's run: the data plane keeps each answer for
   * RECORD_TTL_MS, so a newly registered latest version is served within that time.
   */
  private async record(id: string, version: string | undefined): Promise<ModelRecord> {
    const key = `${id}@${version ?? ''}`;
    const now = performance.now();
    const hit = this.records.get(key);
    if (hit && now - hit.at < RECORD_TTL_MS) return hit.record;
    const record = await this.opts.registry.get(id, version);
    if (this.records.size > 1000) this.records.clear();
    this.records.set(key, { record, at: now });
    return record;
  }

  /** The session pool of a model version; a failed load is not cached, so the next request retries. */
  private load(record: ModelRecord): Promise<Loaded> {
    const key = `${record.id}@${record.version}`;
    let pending = this.loaded.get(key);
    if (!pending) {
      pending = (async () => {
        const { variant } = await this.opts.registry.resolveVariant(record.id, { version: record.version, precision: 'fp32', target: 'server' });
        const model = await this.opts.artifacts.read(variant.sha256);
        const manifest = manifestForVariant(record.manifest, variant);
        const n = Math.max(1, this.opts.sessionsPerModel ?? 2);
        const mode = this.opts.workerThreads ?? 'auto';
        const threads = mode === 'auto' ? !batches(record.manifest, this.opts.batching) : mode;
        const ort = threads ? threadedOrt() : this.opts.ort;
        const predictors: Predictor[] = [];
        try {
          for (let i = 0; i < n; i++) predictors.push(await createPredictor({ manifest, model, ort }));
        } catch (err) {
          await Promise.all(predictors.map((p) => p.release()));
          throw err;
        }
        const observer = this.opts.observer;
        const runner = createModelRunner({
          predictors,
          ...(this.opts.batching ? { batching: this.opts.batching } : {}),
          // Main-thread sessions: dispatch after the turn's I/O, so the requests parsed in one event-loop turn join one
          // batch (measured on mnist-8 at concurrency 8: 6753 vs 4038 infer/s; with worker threads it did not help).
          ...(threads ? {} : { defer: (fn: () => void) => void setImmediate(fn) }),
          ...(observer?.onExecute ? { onExecute: (e: BatchExecution) => observer.onExecute!(record.id, record.version, e) } : {}),
        });
        const loaded: Loaded = { runner, model, manifest };
        this.ready.set(key, loaded);
        return loaded;
      })();
      this.loaded.set(key, pending);
      pending.catch(() => this.loaded.delete(key));
    }
    return pending;
  }
}

/** Whether requests of this model may share a run (batching allows more than one row and the graph can stack). */
function batches(manifest: ModelManifest, override: Partial<Batching> | undefined): boolean {
  const max = override?.maxBatchSize ?? manifest.batching?.maxBatchSize ?? 1;
  return max > 1 && unbatchableReason(manifest) === undefined;
}

/** The requested outputs (all by default), in the order asked; BAD_REQUEST names an unknown one. */
function pick(all: Feeds, names: string[] | undefined, record: ModelRecord): Feeds {
  const wanted = names ?? record.manifest.outputs.map((o) => o.name);
  const out: Feeds = {};
  for (const name of wanted) {
    const t = all[name];
    if (!t) {
      throw new LeptonError('BAD_REQUEST', `'${name}' is not an output of model ${record.id}@${record.version}; outputs: ${Object.keys(all).join(', ')}`, {
        output: name,
      });
    }
    out[name] = t;
  }
  return out;
}
