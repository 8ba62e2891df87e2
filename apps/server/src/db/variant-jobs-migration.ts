import { sql, type Kysely } from 'kysely';

/** 0004_variant_jobs (see variant-jobs-schema.ts). Only column types SQLite and PostgreSQL share. */
export async function variantJobsMigration(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('variant_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('pass', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('progress', 'real', (c) => c.notNull())
    .addColumn('stage', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('report', 'text')
    .addColumn('variant_id', 'text')
    .addColumn('precision', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addForeignKeyConstraint('variant_jobs_version_fk', ['model_id', 'version'], 'model_versions', ['model_id', 'version'])
    .execute();
  await sql`create index variant_jobs_model on variant_jobs (model_id, version)`.execute(db);
  await sql`create index variant_jobs_status on variant_jobs (status, seq)`.execute(db);
}
