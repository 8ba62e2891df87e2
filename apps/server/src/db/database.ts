import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import type { RegistryDatabase } from './schema';
import { markPostgres } from './dialect';
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
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // An idle connection the server dropped (restart, failover, idle timeout) makes the pool emit 'error'; with
    // no listener that would end the process. The pool discards that connection and the next query opens another.
    pool.on('error', (err) => process.emitWarning(`registry database connection lost: ${err.message}`, { code: 'LEPTON_DATABASE_CONNECTION_LOST' }));
    const db = new Kysely<RegistryDatabase>({ dialect: new PostgresDialect({ pool }) });
    markPostgres(db);
    opened = { db, dialect: 'postgres', location: redactUrl(url) };
    try {
      await sql`select 1`.execute(db);
    } catch (err) {
      await db.destroy();
      throw new LeptonError('DATABASE_UNAVAILABLE', `cannot connect to the registry database ${opened.location}: ${(err as Error).message}; expected a reachable PostgreSQL server and an existing database`, {
        location: opened.location,
      });
    }
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
    await migrateToLatest(opened.db as Kysely<unknown>, opened.dialect);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  return opened;
}

/** The URL with its password (user:PASSWORD@ or ?password=) shown as ***. */
function redactUrl(url: string): string {
  const out = url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  return out.replace(/([?&]password=)[^&]*/i, '$1***');
}
