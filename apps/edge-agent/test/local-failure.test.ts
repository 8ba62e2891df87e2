import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import { createTensor, decodeWav } from '@lepton/tensor-core';
import { encodeWireTensor } from '@lepton/contracts';
import type { AppRouter } from '@lepton/api';
import { speechFixture } from '@lepton/test-fixtures';
import { loadEdgeConfig, startEdgeAgent, type EdgeAgent } from '../src';
import { spawnServer, type Proc } from './processes';

/**
 * The agent's pieces in this process against a real server process, so the local model can be made to fail
 * mid-life (its session released: INFERENCE_FAILED, not the caller's fault) and the fallback observed.
 */
const TOKEN = 'edge-local-failure-token';
const MODEL = 'silero-vad-v5';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-fail-'));
const fixture = speechFixture('quick');
const wav = new Uint8Array(readFileSync(fixture.path));
let server: Proc | undefined;
let agent: EdgeAgent | undefined;
const events: { event: string; fields: Record<string, unknown> }[] = [];

async function* chunks(bytes: Uint8Array, size = 4096): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  const config = loadEdgeConfig({
    EDGE_PORT: '0',
    LEPTON_SERVER_URL: server.url,
    LEPTON_ENROLL_TOKEN: TOKEN,
    EDGE_DATA_DIR: join(tmp, 'edge'),
  });
  agent = await startEdgeAgent(config, { log: (event, fields) => events.push({ event, fields }) });
});

afterAll(async () => {
  await agent?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('local model failing at run time', () => {
  it('answers on the edge while the local model works', async () => {
    const r = await agent!.services.inference.vadDetect({ model: MODEL, wav, options: {}, includeProbabilities: true });
    expect(r.answeredBy).toBe('edge');
    expect(agent!.local.get(MODEL)?.origin).toBe('download');
  });

  it('runs infer locally with outputs identical to the server', async () => {
    // One Silero step on real speech (16 kHz file, 0.25 s into the sentence), zero context and state.
    const input = new Float32Array(576);
    input.set(decodeWav(wav).samples.subarray(20_000, 20_512), 64);
    const inputs = [
      encodeWireTensor('input', createTensor('float32', [1, 576], input)),
      encodeWireTensor('state', createTensor('float32', [2, 1, 128])),
    ];
    const onEdge = await agent!.services.inference.infer({ model: MODEL, inputs, format: 'base64' });
    const onServer = await createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server!.url}/trpc` })] }).infer.mutate({
      model: MODEL,
      inputs,
    });
    expect(onEdge.answeredBy).toBe('edge');
    expect(onServer.answeredBy).toBe('server');
    expect(onEdge.outputs.map((o) => o.name).sort()).toEqual(['output', 'stateN']);
    expect(onEdge.outputs).toEqual(onServer.outputs);
  });

  it('answers unknown routes over its HTTP API with ROUTE_NOT_FOUND (KServe shape under /v2)', async () => {
    const nope = await fetch(`${agent!.url}/nope`);
    expect(nope.status).toBe(404);
    expect(await nope.json()).toEqual({ code: 'ROUTE_NOT_FOUND', message: 'no route GET /nope', details: { method: 'GET', path: '/nope' } });
    const infer = await fetch(`${agent!.url}/v2/models/${MODEL}/infer`);
    expect(infer.status).toBe(404);
    expect(await infer.json()).toEqual({ error: `no route GET /v2/models/${MODEL}/infer`, code: 'ROUTE_NOT_FOUND' });
  });

  it('returns the caller its own mistakes (a bad WAV) instead of forwarding them', async () => {
    const err = await agent!.services.inference
      .vadDetect({ model: MODEL, wav: new Uint8Array([1, 2, 3, 4]), options: {}, includeProbabilities: false })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^WAV_/) });
    expect(events.filter((e) => e.event === 'local.failed')).toEqual([]);
  });

  it('forwards inline and streamed requests to the server once the local model fails', async () => {
    const services = agent!.services;
    const before = await services.inference.vadDetect({ model: MODEL, wav, options: {}, includeProbabilities: true });
    await agent!.local.get(MODEL)!.predictor.release();

    const inline = await services.inference.vadDetect({ model: MODEL, wav, options: {}, includeProbabilities: true });
    expect(inline.answeredBy).toBe('server');
    expect(inline.segments).toEqual(before.segments);
    expect(inline.probabilities).toEqual(before.probabilities);

    // The stream was partly read by the failed local run; the kept start is replayed to the server.
    const streamed = await services.inference.vadDetectStream({ model: MODEL, audio: chunks(wav), options: {}, includeProbabilities: false });
    expect(streamed.answeredBy).toBe('server');
    expect(streamed.segments).toEqual(before.segments);

    const failures = events.filter((e) => e.event === 'local.failed');
    expect(failures).toHaveLength(2);
    expect(String(failures[0]!.fields['message'])).toContain('released');
  });
});
