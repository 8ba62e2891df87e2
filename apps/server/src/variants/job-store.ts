import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { VariantJob, VariantReport } from '@lepton/contracts';
import { lockForSeq } from '../db/dialect';
import type { RegistryDatabase } from '../db/schema';
import type { VariantJobsTable } from '../db/variant-jobs-schema';

type Row = Selectable<VariantJobsTable>;

/** The variant_jobs table: the queue and the history of variant builds. */
export class JobStore {
  constructor(private readonly db: Kysely<RegistryDatabase>) {}

  async create(model: string, version: string, target: string, pass: string): Promise<VariantJob> {
    // One transaction, so two jobs created at once never share a seq (the queue order).
    const row = await this.db.transaction().execute(async (trx) => {
      await lockForSeq(this.db, trx, 'variant_jobs');
      const last = await trx.selectFrom('variant_jobs').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      const job: Row = {
        id: `vj_${randomBytes(8).toString('hex')}`,
        model_id: model,
        version,
        target,
        pass,
        status: 'queued',
        progress: 0,
        stage: null,
        error_code: null,
        error_message: null,
        report: null,
        variant_id: null,
        precision: null,
        created_at: new Date().toISOString(),
        started_at: null,
        finished_at: null,
        seq: Number(last?.seq ?? 0) + 1,
      };
      await trx.insertInto('variant_jobs').values(job).execute();
      return job;
    });
    return toJob(row);
  }

  async forVersion(model: string, version: string): Promise<VariantJob[]> {
    const rows = await this.db.selectFrom('variant_jobs').selectAll().where('model_id', '=', model).where('version', '=', version).orderBy('seq').execute();
    return rows.map(toJob);
  }

  async get(id: string): Promise<VariantJob | undefined> {
    const row = await this.db.selectFrom('variant_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  async nextQueued(): Promise<VariantJob | undefined> {
    const row = await this.db.selectFrom('variant_jobs').selectAll().where('status', '=', 'queued').orderBy('seq').limit(1).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Jobs a stopped server left running go back to the queue (from the start: a worker's work is not saved). */
  async requeueRunning(): Promise<number> {
    const r = await this.db
      .updateTable('variant_jobs')
      .set({ status: 'queued', progress: 0, stage: 'requeued after a restart', started_at: null })
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async start(id: string): Promise<void> {
    await this.db.updateTable('variant_jobs').set({ status: 'running', progress: 0, stage: 'starting', started_at: new Date().toISOString() }).where('id', '=', id).execute();
  }

  async progress(id: string, progress: number, stage: string, pass?: string): Promise<void> {
    await this.db
      .updateTable('variant_jobs')
      .set({ progress: Math.min(1, Math.max(0, progress)), stage, ...(pass !== undefined ? { pass } : {}) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async succeed(id: string, out: { pass: string; variantId: string; precision: string; report: VariantReport }): Promise<void> {
    await this.db
      .updateTable('variant_jobs')
      .set({
        status: 'succeeded',
        progress: 1,
        stage: null,
        pass: out.pass,
        variant_id: out.variantId,
        precision: out.precision,
        report: JSON.stringify(out.report),
        finished_at: new Date().toISOString(),
      })
      .where('id', '=', id)
      .execute();
  }

  async fail(id: string, error: { code: string; message: string }): Promise<void> {
    await this.db
      .updateTable('variant_jobs')
      .set({ status: 'failed', stage: null, error_code: error.code, error_message: error.message, finished_at: new Date().toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async requeue(id: string): Promise<void> {
    await this.db.updateTable('variant_jobs').set({ status: 'queued', progress: 0, stage: 'requeued at shutdown', started_at: null }).where('id', '=', id).execute();
  }
}

function toJob(r: Row): VariantJob {
  return {
    id: r.id,
    model: r.model_id,
    version: r.version,
    target: r.target as VariantJob['target'],
    pass: r.pass,
    status: r.status as VariantJob['status'],
    progress: Number(r.progress),
    stage: r.stage,
    error: r.error_code !== null ? { code: r.error_code, message: r.error_message ?? '' } : null,
    report: r.report !== null ? (JSON.parse(r.report) as VariantReport) : null,
    variantId: r.variant_id,
    precision: r.precision as VariantJob['precision'],
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}
