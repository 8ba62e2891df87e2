import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechFixture } from '@lepton/test-fixtures';
import { loadEdgeConfig, startEdgeAgent, type EdgeAgent } from '../src';
import { spawnServer, type Proc } from './processes';
import { MODEL, SILERO, eventually } from './fleet-helpers';

/**
 * The cache deleted under a running agent (a clean-up script, someone freeing disk): the model keeps answering from
 * memory, and the agent must put the verified files back while the server is there, so that its next start,
 * with the server down, still has something to serve.
 */
const TOKEN = 'edge-cache-repair-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-repair-'));
const dataDir = join(tmp, 'edge');
const wav = new Uint8Array(readFileSync(speechFixture('quick').path));
let server: Proc | undefined;
let agent: EdgeAgent | undefined;
const events: { event: string; fields: Record<string, unknown> }[] = [];

const config = (serverUrl: string) =>
  loadEdgeConfig({ EDGE_PORT: '0', LEPTON_SERVER_URL: serverUrl, LEPTON_ENROLL_TOKEN: TOKEN, EDGE_DATA_DIR: dataDir, EDGE_POLL_MS: '300', EDGE_UPSTREAM_TIMEOUT_MS: '3000' });

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agent = await startEdgeAgent(config(server.url), { log: (event, fields) => events.push({ event, fields }) });
});

afterAll(async () => {
  await agent?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('edge cache deleted while serving', () => {
  it('fetches the running version again and rewrites state.json, verified', async () => {
    const dir = join(dataDir, 'models', MODEL);
    const sha = agent!.local.get(MODEL)!.sha256;
    rmSync(join(dir, `${sha}.onnx`));
    rmSync(join(dir, 'state.json'));
    // Still answering from memory meanwhile.
    expect((await agent!.services.inference.vadDetect({ model: MODEL, wav, options: {}, includeProbabilities: false })).answeredBy).toBe('edge');
    // It stayed deleted: each sync saw the running digest assigned and did nothing.
    await eventually('the cache repaired', async () => events.find((e) => e.event === 'cache.repaired'));
    expect(events.find((e) => e.event === 'cache.missing')?.fields).toMatchObject({ model: MODEL, sha256: sha });
    expect(readFileSync(join(dir, `${sha}.onnx`)).equals(SILERO)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toMatchObject({ current: { sha256: sha, version: '5.0.0' } });
    expect(readdirSync(dir).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('so a restart with the server down still answers locally', async () => {
    await agent!.close();
    agent = undefined;
    const url = server!.url;
    await server!.stop();
    server = undefined;
    agent = await startEdgeAgent(config(url), { log: (event, fields) => events.push({ event, fields }) });
    expect(agent.local.get(MODEL)?.origin).toBe('cache');
    const r = await agent.services.inference.vadDetect({ model: MODEL, wav, options: {}, includeProbabilities: false });
    expect(r.answeredBy).toBe('edge');
    expect(r.segments.length).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'agent.lock'))).toBe(true);
  });
});
