import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WEB_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Run a command to completion, keeping its output for the failure message. */
function runToEnd(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/**
 * `vite build` in its own process (inside vitest NODE_ENV is 'test', and Vite would build a development bundle),
 * into a temp folder the server is pointed at (LEPTON_WEB_DIR), so the test never rewrites apps/web/dist under
 * a server someone else is running.
 */
export async function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'lepton-web-dist-'));
  const vite = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  const args = [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  await runToEnd(process.execPath, args, WEB_ROOT, { ...process.env, NODE_ENV: 'production' });
  return outDir;
}

export interface RunningServer {
  url: string;
  dataDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * The real server as `npm start` runs it, on a free port with a fresh data folder. `env` is laid over the test
 * defaults (e.g. LEPTON_BUILD_VARIANTS: '1' to build the bundled model's variants at start).
 */
export function startServer(webDir: string, timeoutMs = 90_000, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lepton-web-test-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: dataDir, LEPTON_WEB_DIR: webDir, LEPTON_LOG_LEVEL: 'warn', LEPTON_BUILD_VARIANTS: '0', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`server did not print its address within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /Lepton server listening on (http:\/\/[^\s"]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        // 0.0.0.0 is where it listens, not an address a browser should open.
        resolve({ url: m[1]!.replace('0.0.0.0', '127.0.0.1').replace(/\/$/, ''), dataDir, output: () => output, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}

/**
 * Debian's chromium, never a downloaded browser; flags from DESIGN.md, plus Chromium's built-in fake microphone
 * (a synthetic tone, permission granted without a prompt) so the record path runs for real, and WebGPU (headless:
 * Dawn on SwiftShader) so the parity page's browser-webgpu platform runs for real too.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--enable-unsafe-webgpu',
    ],
  });
}

/** Close what a browser test opened (any of it may be missing when its beforeAll failed half way). */
export async function tearDown(browser: Browser | undefined, server: RunningServer | undefined, webDir: string | undefined): Promise<void> {
  await browser?.close();
  await server?.stop();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
}
