import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { RegistryDatabase } from './schema';
import { migrateToLatest } from './migrations';

export interface OpenedDatabase {
  db: Kysely<RegistryDatabase>;
  dialect: 'sqlite' | 'postgres';
  /** Where it lives: the SQLite file, or the PostgreSQL URL without its password. */
  location: string;
}

/**
 * Open the registry: PostgreSQL when the URL says postgres://, otherwise a SQLite file (default
 * DATA_DIR/registry.sqlite), then migrate to the latest schema.
 */
export async function openDatabase(opts: { dataDir: string; databaseUrl: string | undefined }): Promise<OpenedDatabase> {
  const url = opts.databaseUrl;
  let opened: OpenedDatabase;
  if (url !== undefined && /^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when asked for, so SQLite users never load the pg driver.
    const { default: pg } = await import('pg');
    const db = new Kysely<RegistryDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
    opened = { db, dialect: 'postgres', location: url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@') };
  } else {
    const file = url !== undefined ? resolve(url.replace(/^(sqlite|file):(\/\/)?/, '')) : join(opts.dataDir, 'registry.sqlite');
    mkdirSync(dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file);
    // WAL: readers never block the writer; a busy timeout instead of SQLITE_BUSY when two processes share a file.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    opened = { db: new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite', location: file };
  }
  try {
    await migrateToLatest(opened.db as Kysely<unknown>);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  return opened;
}
