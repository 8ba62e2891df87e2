import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Real processes for the CLI's tests (a copy of the edge agent's test helper: apps do not import each other).
 * Repository root: the server and agent are started exactly as `npm start` starts them, from here.
 */
export const ROOT = resolve(import.meta.dirname, '../../..');

export interface Proc {
  child: ChildProcess;
  /** Base URL from the process's "listening on" line. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then wait for the exit (SIGKILL if it does not come); resolves the exit code. */
  stop(): Promise<number | null>;
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return { out: () => out, err: () => err };
}

function stopper(child: ChildProcess): () => Promise<number | null> {
  return () =>
    new Promise<number | null>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', (code) => {
        clearTimeout(force);
        done(code);
      });
      child.kill('SIGTERM');
    });
}

/** Spawn `entry` and resolve once stdout shows `<pattern> http://...`; reject with its stderr if it exits first. */
export function spawnListening(entry: string, pattern: string, env: Record<string, string>): Promise<Proc> {
  const child = start(entry, env);
  const io = collect(child);
  const re = new RegExp(`${pattern} (http://\\S+)`);
  return new Promise((ok, fail) => {
    const onData = () => {
      const m = re.exec(io.out());
      if (!m) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      ok({ child, url: m[1]!, stdout: io.out, stderr: io.err, stop: stopper(child) });
    };
    const onExit = (code: number | null) => fail(new Error(`${entry} exited (${code}) before listening:\n${io.err()}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export function spawnServer(env: { dataDir: string; token: string; port?: number }): Promise<Proc> {
  return spawnListening('apps/server/src/main.ts', 'Lepton server listening on', {
    PORT: String(env.port ?? 0),
    HOST: '127.0.0.1',
    LEPTON_DATA_DIR: env.dataDir,
    LEPTON_ENROLL_TOKEN: env.token,
    // No background variant builds: a new int8-edge variant would change device assignments mid-test.
    LEPTON_BUILD_VARIANTS: '0',
  });
}

function agentEnv(env: { serverUrl: string; dataDir: string; token?: string }): Record<string, string> {
  return {
    EDGE_PORT: '0',
    EDGE_HOST: '127.0.0.1',
    LEPTON_SERVER_URL: env.serverUrl,
    EDGE_DATA_DIR: env.dataDir,
    LEPTON_ENROLL_TOKEN: env.token ?? '',
    EDGE_UPSTREAM_TIMEOUT_MS: '5000',
  };
}

export function spawnAgent(env: { serverUrl: string; dataDir: string; token?: string }): Promise<Proc> {
  return spawnListening('apps/edge-agent/src/main.ts', 'Lepton edge agent listening on', agentEnv(env));
}

/** Run the real `lepton` command (bin/lepton.mjs, as `npx lepton` does) to its exit. */
export function lepton(args: string[], env: Record<string, string> = {}): Promise<Exited> {
  const child = spawn(process.execPath, [resolve(ROOT, 'apps/cli/bin/lepton.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = collect(child);
  return new Promise((ok) => child.once('close', (code) => ok({ code, stdout: io.out(), stderr: io.err() })));
}
