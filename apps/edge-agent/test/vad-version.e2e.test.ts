import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VadResult } from '@lepton/contracts';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { postWavStream } from '@lepton/node-platform';
import { speechFixture } from '@lepton/test-fixtures';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, rebuiltSilero, registerVersion, trpc } from './fleet-helpers';

/**
 * vad.detect (tRPC, base64) and POST /api/v1/vad/detect (streamed) on a real agent, naming a version: the cached
 * one runs here; any other goes to the server before anything runs here (as infer does since 04617bd), so the
 * answer is the server's for that version, and asking never counts against the cached model's health. With the
 * server gone, such a call is 502 UPSTREAM_UNAVAILABLE naming the version the agent does cache.
 */
const TOKEN = 'edge-vad-version-token';
const CACHED = SILERO_VAD_V5_MANIFEST.version;
/** Registered on the server after the agent enrolled; later versions need a deployment, so the agent keeps CACHED. */
const OTHER = '5.0.1';
/** A small health window, so that calls wrongly counted against the local model roll it back within a few. */
const HEALTH_MIN_CALLS = 4;

const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-vad-version-'));
const fixture = speechFixture('quick');
const wav = readFileSync(fixture.path);
let server: Proc | undefined;
let agent: Proc | undefined;

function detect(url: string, version?: string): Promise<VadResult> {
  return trpc(url).vad.detect.mutate({ model: MODEL, ...(version !== undefined ? { version } : {}), wav: wav.toString('base64'), includeProbabilities: true });
}

function stream(url: string, version?: string): Promise<VadResult> {
  return postWavStream(url, fixture.path, { model: MODEL, ...(version !== undefined ? { version } : {}), includeProbabilities: true });
}

/** The Lepton error of a failed tRPC call, with its HTTP status. */
function failure(p: Promise<unknown>): Promise<{ status?: number; code?: string; message?: string }> {
  return p.then(
    () => ({}),
    (e: { data?: { httpStatus?: number; lepton?: { code: string; message: string } } }) => ({
      status: e.data?.httpStatus,
      code: e.data?.lepton?.code,
      message: e.data?.lepton?.message,
    }),
  );
}

/** What identifies an answer: who gave it, for which version, and its numbers. */
const summary = (r: VadResult) => ({ answeredBy: r.answeredBy, version: r.version, segments: r.segments, probabilities: r.probabilities });

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agent = await spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'edge'), token: TOKEN, extra: { EDGE_HEALTH_MIN_CALLS: String(HEALTH_MIN_CALLS) } });
  // Silero's bytes with an ignored protobuf field: a real second version with the same numbers.
  await registerVersion(server.url, OTHER, rebuiltSilero(OTHER));
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('vad.detect naming a version on a real edge agent', () => {
  it('answers the cached version itself, with or without naming it', async () => {
    const onServer = await detect(server!.url, CACHED);
    for (const version of [undefined, CACHED]) {
      const inline = await detect(agent!.url, version);
      expect(summary(inline)).toEqual({ ...summary(onServer), answeredBy: 'edge' });
      const streamed = await stream(agent!.url, version);
      expect(summary(streamed)).toEqual({ ...summary(onServer), answeredBy: 'edge' });
    }
  });

  it('forwards another version to the server, tRPC and streamed, and the server answers for that version', async () => {
    const onServer = await detect(server!.url, OTHER);
    expect(onServer.version).toBe(OTHER);
    expect(onServer.segments.length).toBeGreaterThan(0);
    const inline = await detect(agent!.url, OTHER);
    expect(summary(inline)).toEqual(summary(onServer));
    expect(inline.answeredBy).toBe('server');
    const streamed = await stream(agent!.url, OTHER);
    expect(summary(streamed)).toEqual(summary(onServer));
    expect(agent!.stderr()).not.toContain('local.failed');
  });

  it('passes the server\'s MODEL_NOT_FOUND through for a version nobody has, without counting it against the cached model', async () => {
    const want = {
      status: 404,
      code: 'MODEL_NOT_FOUND',
      message: `model "${MODEL}" version "9.9.9" is not registered; registered: ${MODEL}@${CACHED}, ${MODEL}@${OTHER}`,
    };
    for (let i = 0; i < HEALTH_MIN_CALLS + 1; i++) {
      expect(await failure(detect(agent!.url, '9.9.9'))).toEqual(want);
      const streamed = await stream(agent!.url, '9.9.9').catch((e: { code: string; message: string }) => e);
      expect({ code: (streamed as { code: string }).code, message: (streamed as { message: string }).message }).toEqual({ code: want.code, message: want.message });
    }
    // 10 calls against a 4-call window: had they counted, the cached model would be rolled back by now.
    expect(agent!.stderr()).not.toContain('model.rollback');
    expect(agent!.stderr()).not.toContain('local.failed');
    expect((await detect(agent!.url)).answeredBy).toBe('edge');
    expect((await stream(agent!.url, CACHED)).answeredBy).toBe('edge');
  });

  it('with the server stopped: the cached version still answers, another one is 502 UPSTREAM_UNAVAILABLE naming the cached one', async () => {
    const online = await detect(agent!.url);
    await server!.stop();
    expect(summary(await detect(agent!.url, CACHED))).toEqual(summary(online));
    expect(summary(await stream(agent!.url))).toEqual(summary(online));
    const why = `no local answer (model ${MODEL}@${OTHER} is not the version cached on this agent (${CACHED})) and `;
    const inline = await failure(detect(agent!.url, OTHER));
    expect(inline.status).toBe(502);
    expect(inline.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(inline.message!.startsWith(why)).toBe(true);
    const res = await fetch(`${agent!.url}/api/v1/vad/detect?model=${MODEL}&version=${OTHER}`, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body: wav,
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(body.message.startsWith(why)).toBe(true);
    // Not the local model's fault either: still healthy, still answering.
    expect(agent!.stderr()).not.toContain('model.rollback');
    expect(agent!.stderr()).not.toContain('local.failed');
    expect(summary(await detect(agent!.url))).toEqual(summary(online));
  });
});
