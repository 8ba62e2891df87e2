import { sql, type Kysely, type Transaction } from 'kysely';
import type { RegistryDatabase } from './schema';

export type Dialect = 'sqlite' | 'postgres';

/** Databases openDatabase opened on PostgreSQL (a Kysely made elsewhere counts as SQLite). */
const POSTGRES = new WeakSet<Kysely<never>>();

export function markPostgres(db: Kysely<RegistryDatabase>): void {
  POSTGRES.add(db as unknown as Kysely<never>);
}

export function dialectOf(db: Kysely<RegistryDatabase>): Dialect {
  return POSTGRES.has(db as unknown as Kysely<never>) ? 'postgres' : 'sqlite';
}

/**
 * Call first in a transaction that reads max(seq) and inserts seq + 1. On PostgreSQL (READ COMMITTED, a pool of
 * connections) two such transactions would otherwise read the same max and store the same seq; the table lock
 * makes the second wait for the first to commit. SQLite needs none: Kysely runs this process's transactions on
 * its one connection one after another, and another process's write makes ours fail (SQLITE_BUSY), never repeat.
 */
export async function lockForSeq(root: Kysely<RegistryDatabase>, trx: Transaction<RegistryDatabase>, table: 'model_versions' | 'deployments' | 'variant_jobs'): Promise<void> {
  if (dialectOf(root) !== 'postgres') return;
  // SHARE ROW EXCLUSIVE conflicts with itself and with writers, not with readers: lists and gets go on.
  await sql`lock table ${sql.table(table)} in share row exclusive mode`.execute(trx);
}
