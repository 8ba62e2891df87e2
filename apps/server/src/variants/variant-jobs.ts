import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelRecord, Variant, VariantJob } from '@lepton/contracts';
import type { VariantService } from '@lepton/api';
import type { RegistryDatabase } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelRegistry } from '../registry/model-registry';
import { JobStore } from './job-store';
import { VARIANT_PROFILES, type PlannedPass } from './profiles';
import { runBuildWorker } from './worker-host';

export interface VariantJobsOptions {
  db: Kysely<RegistryDatabase>;
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  /** LEPTON_BUILD_VARIANTS: when false nothing is queued or run (jobs already stored stay readable). */
  enabled: boolean;
  /** WAV folder for VAD reports (LEPTON_VARIANT_AUDIO_DIR). */
  audioDir: string;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Progress is written when it moves by this much (or the stage changes), not on every model run. */
const PROGRESS_STEP = 0.05;

/**
 * Builds web and edge variants of registered models: one job per model version and profile, stored in SQLite,
 * run one at a time on a worker thread. A failed build records its error code and message; nothing it does can
 * stop the server. Jobs a stopped server left queued or running run again at the next start.
 */
export class VariantJobs implements VariantService {
  private readonly store: JobStore;
  private loop: Promise<void> | undefined;
  private current: { id: string; stop(): Promise<void> } | undefined;
  private closed = false;

  constructor(private readonly opts: VariantJobsOptions) {
    this.store = new JobStore(opts.db);
  }

  /**
   * At start: re-queue what a stopped server left running; queue the profiles of each model's latest version
   * that has never had a job (the bundled model on a fresh data dir, or models registered before variant builds
   * existed); then work through the queue in the background.
   */
  async start(): Promise<void> {
    const requeued = await this.store.requeueRunning();
    if (requeued > 0) this.opts.log?.info({ requeued }, 'variant jobs re-queued after a restart');
    if (!this.opts.enabled) return;
    const latest = new Map<string, ModelRecord>();
    for (const r of await this.opts.registry.list()) if (!latest.has(r.id)) latest.set(r.id, r);
    for (const r of latest.values()) {
      if ((await this.store.forVersion(r.id, r.version)).length === 0) await this.enqueueFor(r);
    }
    this.kick();
  }

  /**
   * Queue one job per profile whose target has no variant yet; nothing without a float32 variant to start from,
   * or when builds are off. Returns the jobs queued.
   */
  async enqueueFor(record: ModelRecord): Promise<VariantJob[]> {
    if (!this.opts.enabled || this.closed) return [];
    if (!fp32Of(record)) return [];
    const existing = await this.store.forVersion(record.id, record.version);
    const queued: VariantJob[] = [];
    for (const p of VARIANT_PROFILES) {
      if (record.variants.some((v) => v.target === p.target)) continue;
      if (existing.some((j) => j.target === p.target && j.status !== 'failed')) continue;
      queued.push(await this.store.create(record.id, record.version, p.target, p.pass));
    }
    if (queued.length > 0) this.opts.log?.info({ model: record.id, version: record.version, jobs: queued.map((j) => j.id) }, 'variant jobs queued');
    this.kick();
    return queued;
  }

  async jobs(model: string, version?: string): Promise<VariantJob[]> {
    const record = await this.opts.registry.get(model, version);
    return this.store.forVersion(record.id, record.version);
  }

  async report(model: string, version: string | undefined, variantId: string) {
    const record = await this.opts.registry.get(model, version);
    const variant = record.variants.find((v) => v.id === variantId);
    if (!variant) {
      throw new LeptonError(
        'ARTIFACT_NOT_FOUND',
        `model ${record.id}@${record.version} has no variant ${JSON.stringify(variantId)}; variants: ${record.variants.map((v) => v.id).join(', ') || '(none)'}`,
        { id: record.id, variant: variantId },
      );
    }
    const jobs = await this.store.forVersion(record.id, record.version);
    const job = jobs.find((j) => j.status === 'succeeded' && j.variantId === variant.id) ?? null;
    return { model: record.id, version: record.version, variant, report: job?.report ?? null, job };
  }

  /** Resolves once no job is queued or running (tests; shutdown waits on the loop itself). */
  async whenIdle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Stop: the running worker is terminated and its job goes back to the queue for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.current;
    if (running) await running.stop();
    await this.loop;
  }

  private kick(): void {
    if (this.loop || this.closed || !this.opts.enabled) return;
    this.loop = this.drain()
      .catch((err: unknown) => this.opts.log?.warn({ err }, 'variant job queue stopped'))
      .finally(() => {
        this.loop = undefined;
      });
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      const job = await this.store.nextQueued();
      if (!job) return;
      await this.run(job);
    }
  }

  private async run(job: VariantJob): Promise<void> {
    await this.store.start(job.id);
    try {
      const record = await this.opts.registry.get(job.model, job.version);
      const fp32 = fp32Of(record);
      if (!fp32) throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no float32 variant to build from`);
      let last = { progress: 0, stage: '' };
      const writes: Promise<void>[] = [];
      const worker = runBuildWorker(
        { modelPath: this.opts.artifacts.pathOf(fp32.sha256), sha256: fp32.sha256, manifest: record.manifest, pass: job.pass as PlannedPass, audioDir: this.opts.audioDir },
        (p) => {
          if (p.progress - last.progress < PROGRESS_STEP && p.stage === last.stage && p.pass === undefined) return;
          last = { progress: p.progress, stage: p.stage };
          writes.push(this.store.progress(job.id, p.progress, p.stage, p.pass));
        },
      );
      this.current = { id: job.id, stop: worker.stop };
      const outcome = await worker.done;
      this.current = undefined;
      await Promise.all(writes);
      if (!outcome.result && !outcome.error) {
        await this.store.requeue(job.id);
        return;
      }
      if (outcome.error) {
        await this.store.fail(job.id, outcome.error);
        this.opts.log?.warn({ job: job.id, model: job.model, target: job.target, code: outcome.error.code, error: outcome.error.message }, 'variant job failed');
        return;
      }
      const r = outcome.result!;
      await this.store.progress(job.id, 0.97, 'storing');
      const variant = await this.opts.registry.addVariant(record.id, record.version, {
        precision: r.precision,
        target: job.target,
        opset: r.opset,
        ...(r.sessionOptions ? { sessionOptions: r.sessionOptions } : {}),
        source: r.bytes,
      });
      await this.store.succeed(job.id, { pass: r.pass, variantId: variant.id, precision: variant.precision, report: r.report });
      this.opts.log?.info({ job: job.id, model: job.model, variant: variant.id, size: variant.size, ratio: r.report.size.ratio }, 'variant built');
    } catch (err) {
      this.current = undefined;
      const code = err instanceof LeptonError ? err.code : 'INTERNAL';
      await this.store.fail(job.id, { code, message: err instanceof Error ? err.message : String(err) });
      this.opts.log?.warn({ job: job.id, code, err }, 'variant job failed');
    }
  }
}

function fp32Of(record: ModelRecord): Variant | undefined {
  return record.variants.find((v) => v.precision === 'fp32' && v.target === 'any') ?? record.variants.find((v) => v.precision === 'fp32');
}
