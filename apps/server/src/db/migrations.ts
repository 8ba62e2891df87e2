import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './dialect';
import { fleetMigration } from './fleet-migration';
import { postgresTypesMigration } from './postgres-types-migration';
import { variantJobsMigration } from './variant-jobs-migration';

/**
 * Migrations live in code (not files found at run time), so the server works the same from source, from a
 * bundle and from a test. Append new ones; never edit one that has shipped.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_registry': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('models')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('task', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('model_versions')
        .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
        .execute();
      await db.schema
        .createTable('artifacts')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('variants')
        .addColumn('model_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('variant_id', 'text', (c) => c.notNull())
        .addColumn('precision', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull().references('artifacts.sha256'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('opset', 'integer')
        .addPrimaryKeyConstraint('variants_pk', ['model_id', 'version', 'variant_id'])
        .addForeignKeyConstraint('variants_version_fk', ['model_id', 'version'], 'model_versions', ['model_id', 'version'])
        .execute();
    },
  },
  '0002_devices': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('credential_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text')
        .execute();
      await db.schema
        .createTable('enrollment_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('device_id', 'text', (c) => c.references('devices.id'))
        .execute();
      await sql`create index enrollment_tokens_kind on enrollment_tokens (kind, used_at)`.execute(db);
    },
  },
  // Fleet: expiring enrollment tokens with a device group, API keys by role, deployments and per-device
  // rollout state, and telemetry keyed by (device, event id) so a redelivered event is stored once.
  '0003_fleet': { up: (db: Kysely<unknown>) => fleetMigration(db) },
  // Variant builds: one job per model version and target profile, with progress and the accuracy report.
  '0004_variant_jobs': { up: (db: Kysely<unknown>) => variantJobsMigration(db) },
  // Per-variant session options (JSON text, null: the manifest's options stand). See VariantSessionOptionsSchema.
  '0005_variant_session_options': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('variants').addColumn('session_options', 'text').execute();
    },
  },
};

/** Every migration for one dialect: MIGRATIONS, then those whose work differs by dialect (append after these). */
function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    ...MIGRATIONS,
    // PostgreSQL only (nothing to do on SQLite): 'real' is 4 bytes there and 8 in SQLite, so double precision;
    // text compares by the database's locale there and by bytes in SQLite, so collation "C". Text columns that
    // later migrations add need `collate "C"` on PostgreSQL too (see postgres-types-migration.ts).
    '0006_postgres_types': { up: (db: Kysely<unknown>) => (dialect === 'postgres' ? postgresTypesMigration(db) : Promise.resolve()) },
  };
}

/** Bring the database to the latest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect = 'sqlite'): Promise<string[]> {
  const migrations = migrationsFor(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(`registry migration ${failed?.migrationName ?? '(unknown)'} failed: ${String((error as Error).message ?? error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
