import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechFixture } from '@lepton/test-fixtures';
import { agentEnv, runToExit, spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, SILERO, eventually } from './fleet-helpers';

/**
 * A real server behind a loopback proxy that misbehaves the way broken networks and foreign services do: an
 * artifact transfer that starts and then stalls, and a fleet.sync answered with JSON of another shape. Each
 * agent must listen, keep answering (through the server), log what happened with a typed code, and recover.
 */
const TOKEN = 'edge-upstream-faults-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-faults-'));
const wav = readFileSync(speechFixture('quick').path);
let server: Proc;
let proxy: Server;
let proxyUrl: string;
const procs: Proc[] = [];
/** What the proxy does now; changed by the tests. */
const mode = { stallArtifact: false, syncShape: false, syncHtml: false };
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  const t = new URL(server.url);
  proxy = createServer((req, res) => {
    const isArtifact = /\/artifact/.test(req.url ?? '');
    if (mode.syncShape && /^\/trpc\/fleet\.sync/.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { data: { assignments: 'none today', pollAfterMs: 500 } } }));
      return;
    }
    if (mode.syncHtml && /^\/trpc\/fleet\.sync/.test(req.url ?? '')) {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    if (isArtifact) ranges.push(req.headers.range);
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (isArtifact && mode.stallArtifact) {
        // The first chunk (at most 64 KiB), then nothing more: the connection stays open, as behind a dead link.
        upRes.once('data', (c: Buffer) => {
          upRes.pause();
          res.write(c.subarray(0, 65536));
        });
        return;
      }
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const p of procs) await p.stop();
  proxy?.closeAllConnections();
  await new Promise((ok) => proxy?.close(ok));
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const logLines = (p: Proc) =>
  p
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string; code?: string; message?: string; resumedFrom?: number });

async function detect(url: string) {
  const res = await fetch(`${url}/api/v1/vad/detect?model=${MODEL}`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
  return { status: res.status, body: (await res.json()) as { answeredBy?: string; segments?: unknown[]; code?: string } };
}

describe('edge agent against a misbehaving upstream', () => {
  it('a transfer that stalls fails after EDGE_UPSTREAM_TIMEOUT_MS: the agent listens, forwards, then resumes the download', async () => {
    mode.stallArtifact = true;
    const dataDir = join(tmp, 'stall');
    // It used to wait for undici's 300 s body timeout before listening (this hook's timeout).
    const agent = await spawnAgent({ serverUrl: proxyUrl, dataDir, token: TOKEN, extra: { EDGE_UPSTREAM_TIMEOUT_MS: '1500', EDGE_POLL_MS: '400', EDGE_BACKOFF_MAX_MS: '800' } });
    procs.push(agent);
    const failed = logLines(agent).find((l) => l.event === 'download.failed');
    expect(failed).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringMatching(/artifact\?.* stalled: no bytes for 1500 ms \(EDGE_UPSTREAM_TIMEOUT_MS\) after [1-9]\d* bytes$/) });
    // Nothing unverified is served or kept as a model; the server answers meanwhile.
    const dir = join(dataDir, 'models', MODEL);
    expect(readdirSync(dir).filter((n) => n.endsWith('.onnx'))).toEqual([]);
    const meanwhile = await detect(agent.url);
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.body.answeredBy).toBe('server');

    mode.stallArtifact = false;
    const downloaded = await eventually('the resumed download', async () => logLines(agent).find((l) => l.event === 'model.downloaded'));
    expect(downloaded.resumedFrom).toBeGreaterThan(0);
    expect(ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r ?? ''))).toBe(true);
    expect(readFileSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.onnx'))!)).equals(SILERO)).toBe(true);
    const local = await eventually('a local answer', async () => {
      const r = await detect(agent.url);
      return r.body.answeredBy === 'edge' ? r : undefined;
    });
    expect(local.body.segments).toEqual(meanwhile.body.segments);
  });

  it('a fleet.sync answer of another shape is UPSTREAM_UNAVAILABLE naming the field (it was INTERNAL "assignments.find is not a function")', async () => {
    mode.syncShape = true;
    try {
      const agent = await spawnAgent({ serverUrl: proxyUrl, dataDir: join(tmp, 'shape'), token: TOKEN, extra: { EDGE_POLL_MS: '400' } });
      procs.push(agent);
      const failed = logLines(agent).find((l) => l.event === 'sync.failed' || l.event === 'server.unreachable');
      expect(failed).toMatchObject({
        event: 'server.unreachable',
        code: 'UPSTREAM_UNAVAILABLE',
        message: expect.stringMatching(/\(fleet\.sync\) answered something that is not a sync answer: assignments: .*expected array.*; expected \{ assignments: \[\.\.\.\], pollAfterMs \}/),
      });
      // Still serving, through the server's inference.
      expect((await detect(agent.url)).body.answeredBy).toBe('server');
    } finally {
      mode.syncShape = false;
    }
  });

  it('an HTML error page for fleet.sync says it answered something that is not a Lepton response (it said "unreachable: Unexpected token")', async () => {
    mode.syncHtml = true;
    try {
      const agent = await spawnAgent({ serverUrl: proxyUrl, dataDir: join(tmp, 'html'), token: TOKEN, extra: { EDGE_POLL_MS: '400' } });
      procs.push(agent);
      expect(logLines(agent).find((l) => l.event === 'server.unreachable')).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        message: expect.stringMatching(/^server http:\/\/127\.0\.0\.1:\d+\/trpc \(fleet\.sync\) answered something that is not a Lepton response \(.*\); expected the Lepton server's tRPC JSON: is LEPTON_SERVER_URL right\?$/),
      });
      expect((await detect(agent.url)).body.answeredBy).toBe('server');
    } finally {
      mode.syncHtml = false;
    }
  });

  it('a second agent on the same EDGE_DATA_DIR is refused, naming the first; a dead holder is taken over', async () => {
    const dataDir = join(tmp, 'shared-dir');
    const first = await spawnAgent({ serverUrl: server.url, dataDir, token: TOKEN });
    procs.push(first);
    const second = await runToExit('apps/edge-agent/src/main.ts', agentEnv({ serverUrl: server.url, dataDir, token: TOKEN }));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `error VALIDATION_FAILED: EDGE_DATA_DIR ${dataDir} is in use by another edge agent (pid ${first.child.pid}, since `,
    );
    expect(second.stderr).toContain('give each agent its own EDGE_DATA_DIR');
    // The first kept serving, and its folder holds one identity and one download.
    expect((await detect(first.url)).body.answeredBy).toBe('edge');

    // kill -9: the lock stays behind; the next agent takes the folder over and says so.
    first.child.kill('SIGKILL');
    await new Promise((ok) => first.child.once('exit', ok));
    expect(existsSync(join(dataDir, 'agent.lock'))).toBe(true);
    const next = await spawnAgent({ serverUrl: server.url, dataDir });
    procs.push(next);
    expect(logLines(next).find((l) => l.event === 'data-dir.stale-lock')).toMatchObject({ pid: first.child.pid });
    expect((await detect(next.url)).body.answeredBy).toBe('edge');
    // A clean stop removes its lock.
    await next.stop();
    expect(existsSync(join(dataDir, 'agent.lock'))).toBe(false);
  });
});
