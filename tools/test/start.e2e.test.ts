import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechFixture } from '@lepton/test-fixtures';

/**
 * `npm start` as a person runs it (tools/scripts/start.ts), on free ports with fresh data folders: it must bring up
 * the server, the web app and one edge agent, and `npx lepton vad --on edge` must answer through that agent.
 */
const root = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'lepton-start-e2e-'));
let start: ChildProcess | undefined;
let output = '';
let serverUrl = '';
let edgeUrl = '';

/** A loopback port nobody listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => ok(port));
    });
  });
}

function lepton(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'apps/cli/bin/lepton.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((ok) => child.once('close', (code) => ok({ code, stdout, stderr })));
}

beforeAll(async () => {
  const [port, edgePort] = [await freePort(), await freePort()];
  serverUrl = `http://127.0.0.1:${port}`;
  edgeUrl = `http://127.0.0.1:${edgePort}`;
  start = spawn(process.execPath, ['--import', 'tsx', 'tools/scripts/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      EDGE_PORT: String(edgePort),
      LEPTON_DATA_DIR: join(tmp, 'server'),
      EDGE_DATA_DIR: join(tmp, 'edge'),
      LEPTON_LOG_LEVEL: 'warn',
      LEPTON_BUILD_VARIANTS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  await new Promise<void>((ok, fail) => {
    start!.stdout!.on('data', (d: Buffer) => {
      output += d.toString('utf8');
      if (/^Try: .*\n/m.test(output)) ok();
    });
    start!.once('exit', (code) => fail(new Error(`npm start exited (${code}) before it was running:\n${output}`)));
  });
}, 300_000);

afterAll(async () => {
  if (start && start.exitCode === null && start.signalCode === null) {
    const exited = new Promise((r) => start!.once('exit', r));
    start.kill('SIGTERM');
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('npm start', () => {
  it('prints where the server runs and a CLI line that reaches its agent on these ports', () => {
    expect(output).toContain(`Lepton server listening on`);
    expect(output).toContain(`Lepton edge agent listening on ${edgeUrl}`);
    expect(output).toContain(`Lepton is running: open ${serverUrl}/ in a browser.`);
    expect(output).toMatch(
      new RegExp(`^Try: LEPTON_SERVER_URL=${serverUrl} LEPTON_EDGE_URL=${edgeUrl} npx lepton vad /usr/share/sounds/alsa/Front_Center\\.wav --on edge$`, 'm'),
    );
  });

  it('serves the web app, its onnxruntime-web wasm and /healthz from the server', async () => {
    const page = await fetch(`${serverUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('id="app"');
    const wasm = await fetch(`${serverUrl}/ort/ort-wasm-simd-threaded.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(await (await fetch(`${serverUrl}/healthz`)).json()).toMatchObject({ status: 'ok', models: [{ id: 'silero-vad-v5' }] });
  });

  it('answers `lepton vad --on edge` through the started agent, with the same segments as --on server', async () => {
    const quick = speechFixture('quick');
    const env = { LEPTON_SERVER_URL: serverUrl, LEPTON_EDGE_URL: edgeUrl };
    const edge = await lepton(['vad', quick.path, '--on', 'edge', '--json'], env);
    expect(edge.stderr).toBe('');
    expect(edge.code).toBe(0);
    const onEdge = JSON.parse(edge.stdout) as { segments: { start: number; end: number }[]; answeredBy: string };
    expect(onEdge.answeredBy).toBe('edge');
    expect(Math.abs(onEdge.segments[0]!.start - quick.speechStart)).toBeLessThanOrEqual(0.15);
    const server = await lepton(['vad', quick.path, '--on', 'server', '--json'], env);
    expect(server.code).toBe(0);
    const onServer = JSON.parse(server.stdout) as { segments: unknown[]; answeredBy: string };
    expect(onServer.answeredBy).toBe('server');
    expect(onServer.segments).toEqual(onEdge.segments);
  });

  it('stops the server and the agent on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => start!.once('exit', r));
    start!.kill('SIGTERM');
    await exited;
    for (const url of [`${serverUrl}/healthz`, `${edgeUrl}/healthz`]) {
      const err = await fetch(url).then(
        () => null,
        (e: unknown) => (e as { cause?: { code?: string } }).cause?.code,
      );
      expect({ url, err }).toEqual({ url, err: 'ECONNREFUSED' });
    }
  });
});
