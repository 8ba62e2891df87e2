import { sql, type Kysely } from 'kysely';

/** The tables 0001-0005 created. */
const TABLES = ['models', 'model_versions', 'artifacts', 'variants', 'devices', 'enrollment_tokens', 'api_keys', 'deployments', 'deployment_devices', 'telemetry', 'variant_jobs'];

/**
 * 0006_postgres_types, PostgreSQL only: make the columns 0001-0005 created behave as they do in SQLite.
 * - real (float4 in PostgreSQL, 8 bytes in SQLite) -> double precision: 0.123456789 came back as 0.12345679.
 * - text -> collate "C": ORDER BY followed the database locale (en-US puts 'vad_b' before 'vad-b' and 'vad0';
 *   SQLite's byte order puts it after), so model, variant and device lists came back in another order.
 */
export async function postgresTypesMigration(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema() and table_name in (${sql.join(TABLES)}) and data_type in ('real', 'text')
    order by table_name, ordinal_position`.execute(db);
  for (const table of TABLES) {
    const changes = rows
      .filter((r) => r.table_name === table)
      .map((r) => (r.data_type === 'real' ? sql`alter column ${sql.id(r.column_name)} type double precision` : sql`alter column ${sql.id(r.column_name)} type text collate "C"`));
    if (changes.length > 0) await sql`alter table ${sql.table(table)} ${sql.join(changes)}`.execute(db);
  }
}
