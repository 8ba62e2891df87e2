import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for one test file: initdb into a temp folder, a postgres listening on a free
 * loopback port with trust auth and no fsync, stopped and removed by stop() (and at process exit should a test
 * file die before its afterAll). The server binaries come from Debian's `postgresql` package (.ci/run installs it).
 */

const ROOT = '/usr/lib/postgresql';

/** The bin folder of the PostgreSQL to test against: LEPTON_PG_BIN, else 15, else the newest installed. */
function findBin(): string | undefined {
  const fromEnv = process.env['LEPTON_PG_BIN'];
  if (fromEnv) return fromEnv;
  if (existsSync(join(ROOT, '15', 'bin', 'postgres'))) return join(ROOT, '15', 'bin');
  const versions = existsSync(ROOT) ? readdirSync(ROOT).filter((v) => /^\d+$/.test(v) && existsSync(join(ROOT, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(ROOT, newest, 'bin');
}

const BIN = findBin();
const IS_ROOT = process.getuid?.() === 0;

/** Numeric uid/gid of the `postgres` system user (initdb and postgres refuse to run as root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const PG_USER = IS_ROOT ? postgresUser() : undefined;

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresSkipReason: string | undefined =
  BIN === undefined || !['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(BIN, b)))
    ? `PostgreSQL server binaries not found (looked in ${BIN ?? `${ROOT}/*/bin`}; install Debian's postgresql package or set LEPTON_PG_BIN)`
    : IS_ROOT && PG_USER === undefined
      ? 'running as root and there is no `postgres` system user to run initdb and postgres as'
      : undefined;

if (postgresSkipReason !== undefined) console.warn(`[postgres tests skipped] ${postgresSkipReason}`);

/** Run a PostgreSQL binary, as the postgres user when we are root; throws with its output when it fails. */
function runPg(bin: string, args: string[]): string {
  const [cmd, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', join(BIN!, bin), ...args]] : [join(BIN!, bin), args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** `SELECT version()` of the running server. */
  version: string;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Run SQL on a database of this cluster (default the postgres database). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[], url?: string): Promise<R[]>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * ICU locale of the cluster's default collation (default en-US, what a packaged PostgreSQL usually gets from the
   * system locale), so tests see the collation a real deployment has rather than the byte order of C.
   */
  icuLocale?: string;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PostgresCluster> {
  if (postgresSkipReason !== undefined) throw new Error(postgresSkipReason);
  const dir = mkdtempSync(join(tmpdir(), 'lepton-pg-'));
  const data = join(dir, 'data');
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone: the folder is removed either way.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);
  try {
    if (PG_USER) chownSync(dir, PG_USER.uid, PG_USER.gid);
    const locale = opts.icuLocale ?? 'en-US';
    runPg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--locale-provider=icu', `--icu-locale=${locale}`, '--no-sync', '--no-instructions']);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`, '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'];
      try {
        runPg('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', '-o', settings.join(' '), 'start']);
        break;
      } catch (err) {
        // Another process took the port between freePort() and the bind: try another.
        const log = existsSync(join(dir, 'postgres.log')) ? readFileSync(join(dir, 'postgres.log'), 'utf8') : '';
        if (attempt >= 3 || !/could not bind|Address already in use/.test(log)) throw new Error(`${(err as Error).message}\n${log}`);
      }
    }
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const query = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = [], on = url): Promise<R[]> => {
      const client = new pg.Client({ connectionString: on });
      await client.connect();
      try {
        return (await client.query<R>(text, params)).rows;
      } finally {
        await client.end();
      }
    };
    const [{ version }] = (await query<{ version: string }>('select version()')) as [{ version: string }];
    return {
      url,
      port,
      version,
      query,
      async createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: expected [a-z_][a-z0-9_]*`);
        await query(`create database ${name}`);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        process.removeListener('exit', stopSync);
        stopSync();
      },
    };
  } catch (err) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw err;
  }
}
