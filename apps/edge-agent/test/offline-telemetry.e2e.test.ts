import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, admin, eventually, trpc } from './fleet-helpers';

/**
 * The server goes away for the length of 1,000 inference calls on the agent: every call is answered locally,
 * every telemetry event waits in the agent's on-disk outbox, and once the server is back each event arrives and
 * is stored exactly once.
 */
const TOKEN = 'edge-offline-token';
const CALLS = 1000;
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-offline-'));
const serverDir = join(tmp, 'server');
const edgeDir = join(tmp, 'edge');
let server: Proc | undefined;
let agent: Proc | undefined;
let port = 0;
const POLL = { EDGE_POLL_MS: '300', EDGE_BACKOFF_MAX_MS: '1000' };

const frame = Buffer.from(new Float32Array(576).map((_, i) => Math.sin(i / 7) * 0.3).buffer).toString('base64');
const inputs = [
  { name: 'input', dtype: 'float32' as const, shape: [1, 576], data: frame },
  { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
];

async function inferCount(deviceId: string): Promise<number> {
  const d = (await admin(server!.url).devices.list.query()).find((x) => x.id === deviceId);
  return d?.eventsByKind['infer'] ?? 0;
}

beforeAll(async () => {
  server = await spawnServer({ dataDir: serverDir, token: TOKEN });
  port = Number(new URL(server.url).port);
  agent = await spawnAgent({ serverUrl: server.url, dataDir: edgeDir, token: TOKEN, extra: POLL });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('offline operation and durable telemetry', () => {
  it(`answers ${CALLS} calls locally with the server down, then delivers each event exactly once`, async () => {
    const deviceId = JSON.parse(readFileSync(join(edgeDir, 'identity.json'), 'utf8')).deviceId as string;
    const before = await inferCount(deviceId);
    await server!.stop();

    const client = trpc(agent!.url);
    const answered: Record<string, number> = {};
    for (let i = 0; i < CALLS; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, CALLS - i) }, () => client.infer.mutate({ model: MODEL, inputs })));
      for (const r of batch) answered[r.answeredBy] = (answered[r.answeredBy] ?? 0) + 1;
    }
    expect(answered).toEqual({ edge: CALLS });
    expect(agent!.stderr()).toContain('"event":"sync.failed"');

    server = await spawnServer({ dataDir: serverDir, token: TOKEN, port });
    const after = await eventually('all events on the server', async () => {
      const n = await inferCount(deviceId);
      return n >= before + CALLS ? n : undefined;
    });
    expect(after - before).toBe(CALLS);
    // Give the agent two more rounds: nothing is stored twice however often it delivers.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await inferCount(deviceId)) - before).toBe(CALLS);
    // The agent's own count of what the server stored agrees with the server's total for this device.
    const delivered = [...agent!.stderr().matchAll(/"event":"telemetry.delivered".*?"stored":(\d+)/g)];
    const stored = delivered.reduce((a, m) => a + Number(m[1]), 0);
    const total = (await admin(server!.url).devices.list.query()).find((x) => x.id === deviceId)!.events;
    expect(stored).toBe(total);
  }, 180_000);
});
