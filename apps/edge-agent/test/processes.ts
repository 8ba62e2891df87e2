import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** Repository root: the server and agent are started exactly as `npm start` starts them, from here. */
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

/** The admin key test servers accept (LEPTON_ADMIN_KEY). */
export const ADMIN_KEY = 'edge-tests-admin-key';

export function spawnServer(env: { dataDir: string; token: string; port?: number; pollMs?: number; buildVariants?: boolean }): Promise<Proc> {
  return spawnListening('apps/server/src/main.ts', 'Lepton server listening on', {
    PORT: String(env.port ?? 0),
    HOST: '127.0.0.1',
    LEPTON_DATA_DIR: env.dataDir,
    LEPTON_ENROLL_TOKEN: env.token,
    LEPTON_ADMIN_KEY: ADMIN_KEY,
    LEPTON_LOG_LEVEL: 'warn',
    // No background variant builds unless asked: a new int8-edge variant changes device assignments mid-test.
    LEPTON_BUILD_VARIANTS: env.buildVariants ? '1' : '0',
    ...(env.pollMs !== undefined ? { LEPTON_DEVICE_POLL_MS: String(env.pollMs) } : {}),
  });
}

export interface AgentEnv {
  serverUrl: string;
  dataDir: string;
  token?: string;
  /** Comma-separated model ids (default: the agent's default, silero-vad-v5). */
  models?: string;
  /** Extra variables (EDGE_POLL_MS, EDGE_BACKOFF_MAX_MS, ...). */
  extra?: Record<string, string>;
}

export function agentEnv(env: AgentEnv): Record<string, string> {
  return {
    ...(env.models !== undefined ? { EDGE_MODELS: env.models } : {}),
    EDGE_PORT: '0',
    EDGE_HOST: '127.0.0.1',
    LEPTON_SERVER_URL: env.serverUrl,
    EDGE_DATA_DIR: env.dataDir,
    LEPTON_ENROLL_TOKEN: env.token ?? '',
    EDGE_UPSTREAM_TIMEOUT_MS: '5000',
    ...env.extra,
  };
}

export function spawnAgent(env: AgentEnv): Promise<Proc> {
  return spawnListening('apps/edge-agent/src/main.ts', 'Lepton edge agent listening on', agentEnv(env));
}

/** Run a process to its exit (for start-up failures). */
export function runToExit(entry: string, env: Record<string, string>): Promise<Exited> {
  const child = start(entry, env);
  const io = collect(child);
  return new Promise((ok) => child.once('close', (code) => ok({ code, stdout: io.out(), stderr: io.err() })));
}
