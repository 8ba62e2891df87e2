import type { Kysely } from 'kysely';

/** 0003_fleet (see fleet-schema.ts). Only column types SQLite and PostgreSQL share. */
export async function fleetMigration(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('enrollment_tokens').addColumn('expires_at', 'text').execute();
  await db.schema.alterTable('enrollment_tokens').addColumn('group_name', 'text').execute();
  await db.schema.alterTable('devices').addColumn('group_name', 'text').execute();
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('percent', 'integer', (c) => c.notNull())
    .addColumn('variant_policy', 'text', (c) => c.notNull())
    .addColumn('max_failure_rate', 'real', (c) => c.notNull())
    .addColumn('error_rate_threshold', 'real', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('halted_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addForeignKeyConstraint('deployments_version_fk', ['model_id', 'version'], 'model_versions', ['model_id', 'version'])
    .execute();
  await db.schema
    .createTable('deployment_devices')
    .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_devices_pk', ['deployment_id', 'device_id'])
    .execute();
  await db.schema
    .createTable('telemetry')
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('version', 'text')
    .addColumn('latency_ms', 'real')
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('answered_by', 'text')
    .addColumn('code', 'text')
    .addColumn('message', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('telemetry_pk', ['device_id', 'event_id'])
    .execute();
}
