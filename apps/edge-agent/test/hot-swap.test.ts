import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferResponse } from '@lepton/contracts';
import { loadEdgeConfig, startEdgeAgent, type EdgeAgent } from '../src';
import { spawnServer, type Proc } from './processes';
import { MODEL, admin, eventually, rebuiltSilero, registerVersion } from './fleet-helpers';

/**
 * The agent in this process (so a sync round can be run on demand) against a real server process: a new
 * version is swapped in while requests are running, none of them fails; then the new version starts failing at
 * run time and the agent rolls it back by itself once its error rate passes the deployment's threshold.
 */
const TOKEN = 'edge-hot-swap-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-swap-'));
let server: Proc | undefined;
let agent: EdgeAgent | undefined;
const events: string[] = [];

const frame = new Float32Array(576).map((_, i) => Math.cos(i / 5) * 0.25);
const inputs = [
  { name: 'input', dtype: 'float32' as const, shape: [1, 576], data: Buffer.from(frame.buffer).toString('base64') },
  { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
];
const infer = () => agent!.services.inference.infer({ model: MODEL, inputs, format: 'base64' });

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  const config = loadEdgeConfig({
    EDGE_PORT: '0',
    LEPTON_SERVER_URL: server.url,
    LEPTON_ENROLL_TOKEN: TOKEN,
    EDGE_DATA_DIR: join(tmp, 'edge'),
    EDGE_POLL_MS: '3600000', // rounds run only when the test asks
    EDGE_HEALTH_MIN_CALLS: '5',
  });
  agent = await startEdgeAgent(config, { log: (event) => events.push(event) });
});

afterAll(async () => {
  await agent?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('hot swap and error-rate rollback', () => {
  it('swaps in a new version without failing a request in flight', async () => {
    expect(agent!.local.get(MODEL)?.record.version).toBe('5.0.0');
    await registerVersion(server!.url, '5.1.0', rebuiltSilero('hot swap build'));
    await admin(server!.url).deployments.create.mutate({ model: MODEL, version: '5.1.0', target: { all: true }, errorRateThreshold: 0.1 });
    const results: Promise<InferResponse>[] = [];
    let swapping = true;
    const load = (async () => {
      while (swapping) {
        results.push(...Array.from({ length: 4 }, infer));
        await Promise.all(results.slice(-4));
      }
    })();
    await agent!.loop.once();
    results.push(...Array.from({ length: 4 }, infer));
    swapping = false;
    await load;
    const answers = await Promise.all(results);
    expect(answers.every((a) => a.answeredBy === 'edge')).toBe(true);
    const versions = new Set(answers.map((a) => a.version));
    expect(versions.has('5.1.0')).toBe(true);
    expect(agent!.local.get(MODEL)?.record.version).toBe('5.1.0');
    // The same model logic on both versions: outputs agree.
    const [a, b] = [answers.find((x) => x.version === '5.1.0')!, answers[0]!];
    expect(a.outputs).toEqual(b.outputs);
  });

  it('rolls back when the error rate passes the threshold, and tells the server', async () => {
    await agent!.local.get(MODEL)!.predictor.release(); // the session dies: every local run now fails
    // The window holds the last 5 outcomes: 4 good ones and this failure (answered by the server) make 20% > 10%.
    expect((await infer()).answeredBy).toBe('server');
    await eventually('the rollback', async () => (agent!.local.get(MODEL)?.record.version === '5.0.0' ? true : undefined), 50, 100);
    expect(events).toContain('model.rollback');
    expect((await infer()).answeredBy).toBe('edge');
    await agent!.loop.flush();
    const deps = await admin(server!.url).deployments.list.query();
    const d = await admin(server!.url).deployments.status.query({ id: deps.find((x) => x.version === '5.1.0')!.id });
    expect(d.devices.map((x) => [x.state, x.message])).toEqual([['failed', 'error rate 20% over the last 5 calls passed 10%']]);
  });
});
