import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelPath, ortNode, postWavStream } from '@lepton/node-platform';
import { speechFixture } from '@lepton/test-fixtures';
import type { WireTensor } from '@lepton/contracts';
import type { StartedServer } from '../src';
import { pcmWav, startTestServer, tempDataDir, trpcClient, trpcFailure } from './helpers';

let server: StartedServer;
let client: ReturnType<typeof trpcClient>;
const dataDir = tempDataDir();

beforeAll(async () => {
  server = await startTestServer(dataDir);
  client = trpcClient(server.url);
});
afterAll(() => server?.close());

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const float32Of = (wire: WireTensor) => {
  const bytes = Buffer.from(wire.data as string, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** 576 deterministic samples in [-0.5, 0.5): a Silero input frame (64 context + 512 new). */
function frame(): Float32Array {
  const x = new Float32Array(576);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648 - 0.5;
  }
  return x;
}

describe('models', () => {
  it('lists the bundled Silero VAD v5 and gets it by id', async () => {
    const list = await client.models.list.query();
    expect(list.map((m) => `${m.id}@${m.version}`)).toEqual(['silero-vad-v5@5.0.0']);
    const sha = createHash('sha256').update(readFileSync(bundledModelPath('silero-vad-v5'))).digest('hex');
    const got = await client.models.get.query({ id: 'silero-vad-v5' });
    expect(got.variants).toEqual([{ id: 'fp32', precision: 'fp32', target: 'any', sha256: sha, size: 2327524 }]);
    expect(got.manifest.task).toBe('vad');
  });
});

describe('infer on the real Silero model', () => {
  it('matches a raw onnxruntime-node session bit for bit, with sr as a number or a string', async () => {
    const x = frame();
    const session = await ortNode.InferenceSession.create(bundledModelPath('silero-vad-v5'), {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    const raw = await session.run({
      input: new ortNode.Tensor('float32', x, [1, 576]),
      state: new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    await session.release();
    const expected = raw['output']!.data as Float32Array;
    expect(expected[0]).toBeGreaterThan(0);

    for (const sr of [16000, '16000']) {
      const res = await client.infer.mutate({
        model: 'silero-vad-v5',
        inputs: [
          { name: 'input', dtype: 'float32', shape: [1, 576], data: b64(new Uint8Array(x.buffer)) },
          { name: 'state', dtype: 'float32', shape: [2, 1, 128], data: b64(new Uint8Array(1024)) },
          { name: 'sr', dtype: 'int64', shape: [], data: [sr] },
        ],
      });
      expect(res.answeredBy).toBe('server');
      expect(res.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
        ['output', 'float32', [1, 1]],
        ['stateN', 'float32', [2, 1, 128]],
      ]);
      expect(float32Of(res.outputs[0]!)).toEqual(expected);
      expect(float32Of(res.outputs[1]!)).toEqual(raw['stateN']!.data);
    }
  });

  it('gives typed errors for a wrong dtype, a wrong shape and an unknown model, and keeps serving', async () => {
    const state = { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: b64(new Uint8Array(1024)) };
    const wrongDtype = await trpcFailure(
      client.infer.mutate({ model: 'silero-vad-v5', inputs: [{ name: 'input', dtype: 'float64', shape: [1, 576], data: b64(new Uint8Array(576 * 8)) }, state] }),
    );
    expect(wrongDtype).toEqual({ httpStatus: 400, code: 'TENSOR_DTYPE_MISMATCH', message: "input 'input' has dtype float64; expected float32" });
    const wrongShape = await trpcFailure(
      client.infer.mutate({ model: 'silero-vad-v5', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 100], data: b64(new Uint8Array(400)) }, state] }),
    );
    expect(wrongShape.code).toBe('TENSOR_SHAPE_MISMATCH');
    expect(wrongShape.message).toMatch(/^input 'input' has shape \[1, 100\]; expected \[1, 576\]/);
    const short = await trpcFailure(
      client.infer.mutate({ model: 'silero-vad-v5', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 576], data: b64(new Uint8Array(12)) }, state] }),
    );
    expect(short).toMatchObject({ httpStatus: 400, code: 'TENSOR_SIZE_MISMATCH' });
    const unknown = await trpcFailure(client.infer.mutate({ model: 'whisper', inputs: [state] }));
    expect(unknown).toEqual({ httpStatus: 404, code: 'MODEL_NOT_FOUND', message: 'model "whisper" is not registered; registered: silero-vad-v5@5.0.0' });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses an array of the wrong length as TENSOR_SIZE_MISMATCH without validating its elements', async () => {
    // A bad element at the end: a schema or decoder that looked at elements first would report that instead.
    const data: unknown[] = [...new Array<number>(576).fill(0.25), null];
    const res = await fetch(`${server.url}/trpc/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'silero-vad-v5', inputs: [{ name: 'input', dtype: 'float32', shape: [1, 576], data }] }),
    });
    const body = (await res.json()) as { error: { data: { lepton: { code: string; message: string } } } };
    expect(res.status).toBe(400);
    expect(body.error.data.lepton).toMatchObject({ code: 'TENSOR_SIZE_MISMATCH', message: "tensor 'input': float32 [1, 576] needs 576 values, got 577" });
  });
});

describe('vad.detect and the streaming route', () => {
  it('finds the speech of the quick fixture where it starts (1.0 s)', async () => {
    const fx = speechFixture('quick');
    const res = await client.vad.detect.mutate({ wav: readFileSync(fx.path).toString('base64') });
    expect(res.answeredBy).toBe('server');
    expect(res.segments.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs(res.segments[0]!.start - fx.speechStart)).toBeLessThan(0.15);
    expect(res.segments.at(-1)!.end).toBeGreaterThan(fx.speechEnd - 0.3);
    expect(res.source).toEqual({ sampleRate: 16000, channels: 1, encoding: 'int16' });
  });

  it('streams the same file to the same segments and probabilities', async () => {
    const fx = speechFixture('quick');
    const inline = await client.vad.detect.mutate({ wav: readFileSync(fx.path).toString('base64'), includeProbabilities: true });
    const streamed = await postWavStream(server.url, fx.path, { includeProbabilities: true });
    expect(streamed.segments).toEqual(inline.segments);
    expect(streamed.probabilities).toEqual(inline.probabilities);
    expect(streamed.probabilities).toHaveLength(inline.chunks);
  });

  it('keeps concurrent streams apart (each request has its own model state)', async () => {
    const files = [speechFixture('quick').path, speechFixture('weather').path, speechFixture('quick', { rate: 48000 }).path];
    const sequential = [];
    for (const f of files) sequential.push(await postWavStream(server.url, f, { includeProbabilities: true }));
    const concurrent = await Promise.all(files.map((f) => postWavStream(server.url, f, { includeProbabilities: true })));
    expect(concurrent.map((r) => r.probabilities)).toEqual(sequential.map((r) => r.probabilities));
    expect(concurrent.map((r) => r.segments)).toEqual(sequential.map((r) => r.segments));
  });

  it.each([
    ['8-bit', { bits: 8 as const }],
    ['24-bit', { bits: 24 as const }],
    ['32-bit float', { bits: 32 as const, encoding: 'float' as const }],
    ['stereo', { channels: 2 as const }],
    ['44.1 kHz', { rate: 44100 }],
    ['48 kHz', { rate: 48000 }],
  ])('handles a %s WAV', async (_label, opts) => {
    const fx = speechFixture('quick', opts);
    const res = await postWavStream(server.url, fx.path);
    expect(Math.abs(res.segments[0]!.start - fx.speechStart)).toBeLessThan(0.15);
    expect(res.durationSec).toBeCloseTo(fx.speechEnd + 1, 1);
  });

  it('answers bad audio with typed errors on both surfaces, and keeps serving', async () => {
    const good = readFileSync(speechFixture('quick').path);
    const cases: [string, Buffer, string][] = [
      ['truncated', good.subarray(0, 30), 'WAV_TRUNCATED'],
      ['not a WAV', Buffer.from('this is plain text, not audio at all'.repeat(4)), 'WAV_INVALID'],
      ['0 samples', pcmWav(new Uint8Array(0)), 'WAV_EMPTY'],
    ];
    for (const [label, bytes, code] of cases) {
      const viaTrpc = await trpcFailure(client.vad.detect.mutate({ wav: bytes.toString('base64') }));
      expect({ label, code: viaTrpc.code, status: viaTrpc.httpStatus }).toEqual({ label, code, status: 400 });
      const res = await fetch(`${server.url}/api/v1/vad/detect`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: new Uint8Array(bytes) });
      expect({ label, status: res.status, body: (await res.json()) as { code: string } }).toMatchObject({ label, status: 400, body: { code } });
    }
    const unknown = await postWavStream(server.url, good, { model: 'nope' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((await postWavStream(server.url, good)).segments.length).toBeGreaterThanOrEqual(1);
  });
});

describe('devices and artifacts', () => {
  it('enrolls with the printed one-time token and downloads the fp32 artifact with its digest', async () => {
    expect(server.enrollmentToken).toMatch(/^lpt_/);
    const { deviceId, credential } = await client.devices.enroll.mutate({ token: server.enrollmentToken!, name: 'test-device' });
    expect(deviceId).toMatch(/^dev_/);
    const denied = await fetch(`${server.url}/api/v1/models/silero-vad-v5/artifact`);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    const res = await fetch(`${server.url}/api/v1/models/silero-vad-v5/artifact`, { headers: { authorization: `Bearer ${credential}` } });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('x-lepton-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.equals(readFileSync(bundledModelPath('silero-vad-v5')))).toBe(true);
    const again = await trpcFailure(client.devices.enroll.mutate({ token: server.enrollmentToken!, name: 'second' }));
    expect(again).toMatchObject({ httpStatus: 401, code: 'ENROLLMENT_INVALID' });
  });

  it('serves the web app its model bytes without a credential, by variant id', async () => {
    const res = await fetch(`${server.url}/api/v1/web/models/silero-vad-v5/artifact?version=5.0.0&variant=fp32`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('x-lepton-sha256')).toBe(createHash('sha256').update(bytes).digest('hex'));
    const missing = await fetch(`${server.url}/api/v1/web/models/silero-vad-v5/artifact?variant=int8`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ARTIFACT_NOT_FOUND', message: 'model silero-vad-v5@5.0.0 has no variant "int8"; variants: fp32' });
    const typo = await fetch(`${server.url}/api/v1/web/models/silero-vad-v5/artifact?precison=fp32`);
    expect(typo.status).toBe(400);
  });

  it('serves onnxruntime-web wasm and mjs at /ort/, nothing else from there', async () => {
    const wasm = await fetch(`${server.url}/ort/ort-wasm-simd-threaded.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${server.url}/ort/ort-wasm-simd-threaded.mjs`)).headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect((await fetch(`${server.url}/ort/ort.min.js.map`)).status).toBe(404);
  });
});

describe('metrics', () => {
  it('counts requests by route pattern at /metrics', async () => {
    await fetch(`${server.url}/healthz`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^lepton_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^lepton_process_resident_memory_bytes \d+/m);
  });
});

describe('restart', () => {
  it('does not register the bundled model twice on the same data dir', async () => {
    await server.close();
    server = await startTestServer(dataDir);
    client = trpcClient(server.url);
    expect((await client.models.list.query()).map((m) => m.id)).toEqual(['silero-vad-v5']);
    expect(readdirSync(join(dataDir, 'artifacts', 'sha256')).length).toBe(1);
    // The first start's token was used above, so this start issued a fresh one.
    expect(server.enrollmentToken).toMatch(/^lpt_/);
  });
});
