import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import type { VadResult } from '@lepton/contracts';
import { postWavStream } from '@lepton/node-platform';
import { speechFixture } from '@lepton/test-fixtures';
import { agentEnv, runToExit, spawnAgent, spawnServer, type Proc } from './processes';

/**
 * The agent against a real server, both as real processes (spawned exactly as `npm start` does). The steps run
 * in order and share the agent's data folder, like one device's life: enroll, serve, lose the server, lose or
 * corrupt its cache, recover.
 */
const TOKEN = 'edge-e2e-enroll-token';
const MODEL = 'silero-vad-v5';

const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-e2e-'));
const serverDir = join(tmp, 'server');
const edgeDir = join(tmp, 'edge');
const modelDir = join(edgeDir, 'models', MODEL);
const fixture = speechFixture('quick');
const wav = readFileSync(fixture.path);

let server: Proc | undefined;
let agent: Proc | undefined;
let serverPort = 0;

function client(url: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] });
}

function detect(url: string): Promise<VadResult> {
  return client(url).vad.detect.mutate({ model: MODEL, wav: wav.toString('base64'), includeProbabilities: true });
}

function cacheState(): { current: { sha256: string; version: string }; previous?: { sha256: string } } {
  return JSON.parse(readFileSync(join(modelDir, 'state.json'), 'utf8'));
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function startServer(): Promise<void> {
  server = await spawnServer({ dataDir: serverDir, token: TOKEN, port: serverPort });
  serverPort = Number(new URL(server.url).port);
}

async function restartAgent(): Promise<Proc> {
  await agent?.stop();
  agent = await spawnAgent({ serverUrl: `http://127.0.0.1:${serverPort}`, dataDir: edgeDir });
  return agent;
}

beforeAll(async () => {
  await startServer();
  agent = await spawnAgent({ serverUrl: server!.url, dataDir: edgeDir, token: TOKEN });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('edge agent with a real server', () => {
  it('enrolls once and stores its identity readable by its user only', () => {
    const identity = JSON.parse(readFileSync(join(edgeDir, 'identity.json'), 'utf8'));
    expect(identity.deviceId).toMatch(/\S/);
    expect(identity.credential).toMatch(/\S/);
    expect(identity.serverUrl).toBe(server!.url);
    expect(statSync(join(edgeDir, 'identity.json')).mode & 0o777).toBe(0o600);
  });

  it('answers vad.detect on the edge with segments and probabilities identical to the server', async () => {
    const [onServer, onEdge] = [await detect(server!.url), await detect(agent!.url)];
    expect(onServer.answeredBy).toBe('server');
    expect(onEdge.answeredBy).toBe('edge');
    expect(onEdge.segments.length).toBeGreaterThan(0);
    expect(Math.abs(onEdge.segments[0]!.start - fixture.speechStart)).toBeLessThanOrEqual(0.15);
    expect(onEdge.segments).toEqual(onServer.segments);
    expect(onEdge.probabilities).toHaveLength(onEdge.chunks);
    expect(onEdge.probabilities).toEqual(onServer.probabilities);
    expect(onEdge.chunks).toBe(onServer.chunks);
    expect(onEdge.version).toBe(onServer.version);
  });

  it('serves the streaming route with the same answer', async () => {
    const streamed = await postWavStream(agent!.url, fixture.path, { model: MODEL, includeProbabilities: true });
    const inline = await detect(server!.url);
    expect(streamed.answeredBy).toBe('edge');
    expect(streamed.segments).toEqual(inline.segments);
    expect(streamed.probabilities).toEqual(inline.probabilities);
  });

  it('answers a wrong dtype, a wrong shape and an unknown model with typed errors, and keeps serving', async () => {
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => ({ code: 'none', message: '' }),
        (e: { data?: { lepton?: { code: string } }; message: string }) => ({ code: e.data?.lepton?.code, message: e.message }),
      );
    const state = { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') };
    const sr = { name: 'sr', dtype: 'int64' as const, shape: [], data: [16000] };
    const edge = client(agent!.url);
    const wrongDtype = await failure(
      edge.infer.mutate({ model: MODEL, inputs: [{ name: 'input', dtype: 'float64', shape: [1, 576], data: Buffer.alloc(576 * 8).toString('base64') }, state, sr] }),
    );
    expect(wrongDtype).toEqual({ code: 'TENSOR_DTYPE_MISMATCH', message: "input 'input' has dtype float64; expected float32" });
    const wrongShape = await failure(
      edge.infer.mutate({ model: MODEL, inputs: [{ name: 'input', dtype: 'float32', shape: [1, 100], data: Buffer.alloc(400).toString('base64') }, state, sr] }),
    );
    expect(wrongShape.code).toBe('TENSOR_SHAPE_MISMATCH');
    expect(wrongShape.message).toMatch(/^input 'input' has shape \[1, 100\]; expected \[1, 576\]/);
    // Not pulled by the agent, so it asks the server, whose answer names the registered models.
    const unknown = await failure(edge.infer.mutate({ model: 'whisper', inputs: [state] }));
    expect(unknown).toEqual({ code: 'MODEL_NOT_FOUND', message: 'model "whisper" is not registered; registered: silero-vad-v5@5.0.0' });
    // A caller's mistake is not a local failure: nothing was forwarded for the bad tensors.
    expect(agent!.stderr()).not.toContain('local.failed');
    const ok = await edge.infer.mutate({
      model: MODEL,
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, 576], data: Buffer.alloc(576 * 4).toString('base64') }, state, sr],
    });
    expect(ok.answeredBy).toBe('edge');
    expect(ok.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['output', [1, 1]],
      ['stateN', [2, 1, 128]],
    ]);
  });

  it('caches the artifact under its sha256, which matches the server manifest', async () => {
    const record = await client(server!.url).models.get.query({ id: MODEL });
    const state = cacheState();
    expect(record.variants.map((v) => v.sha256)).toContain(state.current.sha256);
    expect(sha256File(join(modelDir, `${state.current.sha256}.onnx`))).toBe(state.current.sha256);
    expect(state.current.version).toBe(record.version);
    // models.get on the agent answers from the cached manifest.
    expect(await client(agent!.url).models.get.query({ id: MODEL })).toEqual(record);
    // No temp files left behind by the atomic writes.
    expect(readdirSync(modelDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps answering from the cache with the server gone, also after a restart', async () => {
    await server!.stop();
    expect((await detect(agent!.url)).answeredBy).toBe('edge');
    const restarted = await restartAgent();
    const result = await detect(restarted.url);
    expect(result.answeredBy).toBe('edge');
    expect(result.segments.length).toBeGreaterThan(0);
    expect(restarted.stderr()).toContain('server.unreachable');
  });

  it('discards a corrupt cached model and forwards to the server once it is back', async () => {
    expect(await agent!.stop()).toBe(0); // SIGTERM closes it cleanly
    const { sha256 } = cacheState().current;
    const file = join(modelDir, `${sha256}.onnx`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(file, bytes);

    // Server down and the cache corrupt: nothing can answer, and the agent says why.
    const a = await restartAgent();
    expect(a.stderr()).toContain('ARTIFACT_DIGEST_MISMATCH');
    expect(existsSync(file)).toBe(false);
    const err = await detect(a.url).catch((e: unknown) => e as { data?: { lepton?: { code: string; message: string } } });
    expect((err as { data?: { lepton?: { code: string } } }).data?.lepton?.code).toBe('UPSTREAM_UNAVAILABLE');

    // The server comes back on the same address: the same agent now forwards.
    await startServer();
    const forwarded = await detect(a.url);
    expect(forwarded.answeredBy).toBe('server');
    expect(forwarded.segments).toEqual((await detect(server!.url)).segments);
  });

  it('downloads the model again on the next start with the server up', async () => {
    const a = await restartAgent();
    expect(a.stderr()).toContain('model.downloaded');
    const { sha256 } = cacheState().current;
    expect(sha256File(join(modelDir, `${sha256}.onnx`))).toBe(sha256);
    expect((await detect(a.url)).answeredBy).toBe('edge');
  });

  it('downloads the model again after the cached file was deleted', async () => {
    await agent!.stop();
    const { sha256 } = cacheState().current;
    rmSync(join(modelDir, `${sha256}.onnx`));
    const a = await restartAgent();
    expect(a.stderr()).toContain('model.downloaded');
    expect(sha256File(join(modelDir, `${sha256}.onnx`))).toBe(sha256);
    const [onEdge, onServer] = [await detect(a.url), await detect(server!.url)];
    expect(onEdge.answeredBy).toBe('edge');
    expect(onEdge.probabilities).toEqual(onServer.probabilities);
  });

  it('rejects a bad WAV itself instead of forwarding it', async () => {
    const bad = Buffer.from('RIFF....WAVEjunk that is not a fmt chunk');
    const err = await client(agent!.url)
      .vad.detect.mutate({ model: MODEL, wav: bad.toString('base64') })
      .catch((e: unknown) => e as { data?: { lepton?: { code: string } } });
    expect((err as { data?: { lepton?: { code: string } } }).data?.lepton?.code).toMatch(/^WAV_/);
    expect(agent!.stderr()).not.toContain('local.failed');
  });

  it('forwards everything when it runs no model locally (EDGE_MODELS empty)', async () => {
    const forwardOnly = await spawnAgent({ serverUrl: server!.url, dataDir: join(tmp, 'edge-forward'), token: TOKEN, models: '' });
    try {
      const [viaAgent, direct] = [await detect(forwardOnly.url), await detect(server!.url)];
      expect(viaAgent.answeredBy).toBe('server');
      expect(viaAgent.segments).toEqual(direct.segments);
      const streamed = await postWavStream(forwardOnly.url, fixture.path, { model: MODEL });
      expect(streamed.answeredBy).toBe('server');
      expect(streamed.segments).toEqual(direct.segments);
      // Its models come from the server; nothing was cached.
      expect((await client(forwardOnly.url).models.list.query()).map((r) => r.id)).toContain(MODEL);
      expect(existsSync(join(tmp, 'edge-forward', 'models'))).toBe(false);
    } finally {
      await forwardOnly.stop();
    }
  });

  it('exits with a clear error when the enrollment token is wrong', async () => {
    const res = await runToExit(
      'apps/edge-agent/src/main.ts',
      agentEnv({ serverUrl: server!.url, dataDir: join(tmp, 'edge-bad-token'), token: 'not-the-right-token' }),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error ENROLLMENT_INVALID: .*rejected the enrollment token/m);
    expect(res.stdout).not.toContain('listening');
    expect(existsSync(join(tmp, 'edge-bad-token', 'identity.json'))).toBe(false);
  });

  it('exits with a clear error when there is neither an identity nor a token', async () => {
    const res = await runToExit('apps/edge-agent/src/main.ts', agentEnv({ serverUrl: server!.url, dataDir: join(tmp, 'edge-no-token') }));
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error ENROLLMENT_INVALID: no device identity at .*LEPTON_ENROLL_TOKEN is not set/m);
  });
});
