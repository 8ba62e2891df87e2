import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeptonClient } from '@lepton/client';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { ortNode } from '@lepton/node-platform';
import { Framer, Resampler, decodeWav, type Tensor } from '@lepton/tensor-core';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL } from './fleet-helpers';

/**
 * The Open Inference Protocol (KServe v2 REST) on a real agent process enrolled with a real server: metadata,
 * readiness, infer with JSON tensors and with the binary extension on real audio (alsa-utils' Front_Center.wav,
 * decoded, resampled to 16 kHz and framed as Silero's manifest says: 512 new samples after 64 of context), each
 * answer bit for bit the server's own /v2 answer and onnxruntime-node's run on the artifact the agent cached;
 * malformed frames refused with the server's 400 { error }; and the cache answering once the server is gone.
 */
const TOKEN = 'edge-kserve-token';
const WAV = '/usr/share/sounds/alsa/Front_Center.wav';
const VERSION = SILERO_VAD_V5_MANIFEST.version;
/** A small health window, so that a fault wrongly counted against the local model shows in a few calls. */
const HEALTH_MIN_CALLS = 4;

const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-kserve-'));
const edgeDir = join(tmp, 'edge');
let server: Proc | undefined;
let agent: Proc | undefined;
let session: Awaited<ReturnType<typeof ortNode.InferenceSession.create>> | undefined;

const kserve = (url: string) => createLeptonClient({ url }).kserve;
const zeros = (): Tensor => ({ dtype: 'float32', shape: [2, 1, 128], data: new Float32Array(256) });
const windowOf = (frame: Float32Array): Tensor => ({ dtype: 'float32', shape: [1, 576], data: frame });
const SR: Tensor = { dtype: 'int64', shape: [], data: new BigInt64Array([16000n]) };

/** The float32 bit patterns of a tensor's storage: equal arrays mean bit-identical values. */
function bits(t: Tensor | undefined): number[] {
  const d = t!.data as Float32Array;
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

/** Silero's windows of the WAV: decode, 48 kHz -> 16 kHz, frames of 64 context + 512 new samples. */
function audioWindows(): Float32Array[] {
  const { format, samples } = decodeWav(readFileSync(WAV));
  const resampler = new Resampler(format.sampleRate, 16000);
  const framer = new Framer(512, 64);
  const at16k = [resampler.push(samples), resampler.flush()];
  return [...at16k.flatMap((s) => framer.push(s)), ...framer.flush()];
}

/** onnxruntime-node on the agent's cached artifact, with the manifest's session options; sr fed by hand. */
async function direct(frame: Float32Array): Promise<{ output: Tensor; stateN: Tensor }> {
  const out = await session!.run({
    input: new ortNode.Tensor('float32', frame, [1, 576]),
    state: new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]),
    sr: new ortNode.Tensor('int64', new BigInt64Array([16000n]), []),
  });
  const t = (name: string): Tensor => ({ dtype: 'float32', shape: [...out[name]!.dims], data: out[name]!.data as Float32Array });
  return { output: t('output'), stateN: t('stateN') };
}

/** A raw POST to an infer route, for what the client never sends (its own flags, malformed frames). */
async function post(url: string, body: Uint8Array | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function binaryBody(header: unknown, parts: Uint8Array[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...parts]), headerLength: json.length };
}

const f32bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Infer requests the server answered and refused, from its Prometheus counters (0 before the first), summed over
 * every model label: Silero is the only model, and a version it lacks counts under model "(unknown)".
 */
async function serverInfers(): Promise<{ ok: number; failed: number }> {
  const text = await (await fetch(`${server!.url}/metrics`)).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  return { ok: sum('lepton_inference_request_success_total'), failed: sum('lepton_inference_request_failure_total') };
}

const windows = audioWindows();

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agent = await spawnAgent({ serverUrl: server.url, dataDir: edgeDir, token: TOKEN, extra: { EDGE_HEALTH_MIN_CALLS: String(HEALTH_MIN_CALLS) } });
  const state = JSON.parse(readFileSync(join(edgeDir, 'models', MODEL, 'state.json'), 'utf8')) as { current: { sha256: string } };
  const artifact = readFileSync(join(edgeDir, 'models', MODEL, `${state.current.sha256}.onnx`));
  const o = SILERO_VAD_V5_MANIFEST.sessionOptions!;
  session = await ortNode.InferenceSession.create(artifact, {
    graphOptimizationLevel: o.graphOptimizationLevel,
    intraOpNumThreads: o.intraOpNumThreads,
    interOpNumThreads: o.interOpNumThreads,
    executionMode: o.executionMode,
  });
});

afterAll(async () => {
  await session?.release();
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('KServe v2 on a real edge agent', () => {
  it('answers health, server metadata, model metadata and readiness with the real values', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${agent!.url}${path}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await get('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    expect(await get('/v2/health/ready')).toEqual({ status: 200, body: { ready: true } });
    expect(await get('/v2')).toEqual({ status: 200, body: { name: 'lepton', version: '0.1.0', extensions: ['binary_tensor_data'] } });
    // sr is a manifest constant the host feeds itself, so it is not among the inputs a client generates.
    const metadata = {
      name: MODEL,
      versions: [VERSION],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 576] },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128] },
      ],
      outputs: [
        { name: 'output', datatype: 'FP32', shape: [1, 1] },
        { name: 'stateN', datatype: 'FP32', shape: [2, 1, 128] },
      ],
    };
    expect(await get(`/v2/models/${MODEL}`)).toEqual({ status: 200, body: metadata });
    expect(await get(`/v2/models/${MODEL}/versions/${VERSION}`)).toEqual({ status: 200, body: metadata });
    expect(await get(`/v2/models/${MODEL}/ready`)).toEqual({ status: 200, body: { name: MODEL, version: VERSION, ready: true } });
    expect(await get(`/v2/models/${MODEL}/versions/${VERSION}/ready`)).toEqual({ status: 200, body: { name: MODEL, version: VERSION, ready: true } });
    // The same as the server says, through the client.
    expect(await kserve(agent!.url).modelMetadata(MODEL)).toEqual(await kserve(server!.url).modelMetadata(MODEL));
    expect(await kserve(agent!.url).serverMetadata()).toEqual(await kserve(server!.url).serverMetadata());
    expect(await kserve(agent!.url).ready(MODEL, VERSION)).toBe(true);
  });

  it(`infers every window of the WAV (JSON and binary) bit for bit like the server and onnxruntime-node, answering on the edge`, async () => {
    // 68,545 samples at 48 kHz are 22,848 at 16 kHz: 44 full windows and a zero-padded last one.
    expect(windows.length).toBe(45);
    const before = await serverInfers();
    const edge = kserve(agent!.url);
    const probabilities: number[] = [];
    for (const [i, frame] of windows.entries()) {
      const inputs = { input: windowOf(frame), state: zeros() };
      const want = await direct(frame);
      for (const binary of [false, true]) {
        const got = await edge.infer(MODEL, inputs, { binary, id: `w${i}` });
        expect(got.model).toBe(MODEL);
        expect(got.version).toBe(VERSION);
        expect(got.id).toBe(`w${i}`);
        expect(Object.keys(got.outputs)).toEqual(['output', 'stateN']);
        expect(got.outputs['output']!.shape).toEqual([1, 1]);
        expect(got.outputs['stateN']!.shape).toEqual([2, 1, 128]);
        expect(bits(got.outputs['output'])).toEqual(bits(want.output));
        expect(bits(got.outputs['stateN'])).toEqual(bits(want.stateN));
      }
      probabilities.push((want.output.data as Float32Array)[0]!);
    }
    // The server, for the same requests (fewer of them: it is the same model; the agent is under test).
    const server1 = kserve(server!.url);
    for (const i of [0, 7, 20, windows.length - 1]) {
      const inputs = { input: windowOf(windows[i]!), state: zeros() };
      const [onEdge, onServer] = [await edge.infer(MODEL, inputs), await server1.infer(MODEL, inputs)];
      expect(bits(onEdge.outputs['output'])).toEqual(bits(onServer.outputs['output']));
      expect(bits(onEdge.outputs['stateN'])).toEqual(bits(onServer.outputs['stateN']));
      const json = await server1.infer(MODEL, inputs, { binary: false });
      expect(bits(json.outputs['stateN'])).toEqual(bits(onServer.outputs['stateN']));
      // sr may be sent too, as its constant: the same answer.
      const withSr = await edge.infer(MODEL, { ...inputs, sr: SR });
      expect(bits(withSr.outputs['stateN'])).toEqual(bits(onServer.outputs['stateN']));
    }
    // Real audio, real answers: "front center" scores as speech in some windows (up to 0.92 from a zero state)
    // and as silence in others (down to 0.012).
    expect(new Set(probabilities).size).toBeGreaterThan(windows.length / 2);
    expect(Math.max(...probabilities)).toBeGreaterThan(0.9);
    expect(Math.min(...probabilities)).toBeLessThan(0.05);
    // The KServe response names no answering path (model_name, model_version, id, outputs only); the server's
    // own counters say who ran them: the server ran its 8 and none of the agent's.
    const after = await serverInfers();
    expect(after).toEqual({ ok: before.ok + 8, failed: before.failed });
    expect(agent!.stderr()).not.toContain('local.failed');
  });

  it('takes the binary extension as Triton clients send it: mixed inputs, sr fed or not, per-output flags, requested order', async () => {
    const frame = windows[12]!;
    const want = await direct(frame);
    const state = new Float32Array(256);
    // input binary, state as JSON numbers, sr given as its constant; stateN back as binary, output as JSON.
    const header = {
      id: 'mixed',
      inputs: [
        { name: 'input', datatype: 'FP32', shape: [1, 576], parameters: { binary_data_size: 576 * 4 } },
        { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: Array.from(state) },
        { name: 'sr', datatype: 'INT64', shape: [], parameters: { binary_data_size: 8 } },
      ],
      outputs: [{ name: 'stateN', parameters: { binary_data: true } }, { name: 'output' }],
      parameters: { binary_data_output: false },
    };
    const { body, headerLength } = binaryBody(header, [f32bytes(frame), new Uint8Array(new BigInt64Array([16000n]).buffer)]);
    const answers = [];
    for (const url of [agent!.url, server!.url]) {
      const res = await post(url, body, { 'inference-header-content-length': String(headerLength) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      const n = Number(res.headers.get('inference-header-content-length'));
      const head = JSON.parse(res.body.subarray(0, n).toString('utf8')) as {
        outputs: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size: number } }[];
      };
      const rest = res.body.subarray(n);
      answers.push({ head, rest: Array.from(rest) });
      expect(Object.keys(head).sort()).toEqual(['id', 'model_name', 'model_version', 'outputs']);
      expect(head).toMatchObject({ model_name: MODEL, model_version: VERSION, id: 'mixed' });
      expect(head.outputs.map((o) => o.name)).toEqual(['stateN', 'output']);
      expect(head.outputs[0]).toEqual({ name: 'stateN', datatype: 'FP32', shape: [2, 1, 128], parameters: { binary_data_size: 1024 } });
      expect(rest.length).toBe(1024);
      const stateN = new Float32Array(new Uint8Array(rest).buffer);
      expect(bits({ dtype: 'float32', shape: [2, 1, 128], data: stateN })).toEqual(bits(want.stateN));
      // JSON carries float32 as its shortest decimal text, which reads back to the same float32.
      expect(head.outputs[1]).toMatchObject({ name: 'output', datatype: 'FP32', shape: [1, 1] });
      expect(bits({ dtype: 'float32', shape: [1, 1], data: Float32Array.from(head.outputs[1]!.data!) })).toEqual(bits(want.output));
    }
    expect(answers[0]).toEqual(answers[1]);

    // All JSON, no Inference-Header-Content-Length, sr left out: the agent feeds it from the manifest.
    const jsonBody = JSON.stringify({ inputs: [
      { name: 'input', datatype: 'FP32', shape: [1, 576], data: Array.from(frame) },
      { name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: Array.from(state) },
    ] });
    const [onEdge, onServer] = [await post(agent!.url, jsonBody, { 'content-type': 'application/json' }), await post(server!.url, jsonBody, { 'content-type': 'application/json' })];
    expect(onEdge.status).toBe(200);
    expect(onEdge.headers.get('content-type')).toMatch(/^application\/json/);
    expect(onEdge.body.toString('utf8')).toBe(onServer.body.toString('utf8'));
    const parsed = JSON.parse(onEdge.body.toString('utf8')) as { outputs: { name: string; data: number[] }[] };
    expect(bits({ dtype: 'float32', shape: [2, 1, 128], data: Float32Array.from(parsed.outputs[1]!.data) })).toEqual(bits(want.stateN));
  });

  it('refuses malformed frames with 400 { error } like the server, forwards none of them, and keeps serving', async () => {
    const frame = windows[5]!;
    const before = await serverInfers();
    const input = { name: 'input', datatype: 'FP32', shape: [1, 576], parameters: { binary_data_size: 576 * 4 } };
    const state = { name: 'state', datatype: 'FP32', shape: [2, 1, 128], parameters: { binary_data_size: 1024 } };
    const parts = [f32bytes(frame), new Uint8Array(1024)];
    const ok = binaryBody({ inputs: [input, state] }, parts);
    const cases: { why: string; body: Uint8Array; headerLength: string; status: number; error: string | RegExp; code: string }[] = [
      {
        why: 'header length past the body',
        body: ok.body,
        headerLength: String(ok.body.length + 1),
        status: 400,
        error: `Inference-Header-Content-Length is ${ok.body.length + 1}, past the end of the ${ok.body.length}-byte body`,
        code: 'BAD_REQUEST',
      },
      {
        why: 'header length not a number',
        body: ok.body,
        headerLength: 'twelve',
        status: 400,
        error: 'Inference-Header-Content-Length is "twelve"; expected a non-negative integer',
        code: 'BAD_REQUEST',
      },
      {
        why: 'header length cutting the JSON',
        body: ok.body,
        headerLength: String(ok.headerLength - 3),
        status: 400,
        error: new RegExp(`^inference header \\(${ok.headerLength - 3} bytes\\) is not valid JSON: `),
        code: 'BAD_REQUEST',
      },
      (() => {
        const b = binaryBody({ inputs: [{ ...input, parameters: { binary_data_size: 2300 } }, state] }, [f32bytes(frame).subarray(0, 2300), new Uint8Array(1024)]);
        return {
          why: 'binary_data_size not dtype x shape',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: "tensor 'input': FP32 [1, 576] needs 2304 bytes, binary_data_size is 2300",
          code: 'TENSOR_SIZE_MISMATCH',
        };
      })(),
      (() => {
        const b = binaryBody({ inputs: [input, state] }, [...parts, new Uint8Array(4)]);
        return {
          why: 'bytes after the last tensor',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: '4 bytes follow the last binary tensor; the binary_data_size values add up to 3328',
          code: 'TENSOR_SIZE_MISMATCH',
        };
      })(),
      (() => {
        const b = binaryBody({ inputs: [input, state] }, [parts[0]!, new Uint8Array(1000)]);
        return {
          why: 'sizes past the body',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: "tensor 'state': binary_data_size 1024 runs past the end of the body (1000 binary bytes left)",
          code: 'TENSOR_SIZE_MISMATCH',
        };
      })(),
      (() => {
        const b = binaryBody({ inputs: [{ ...input, datatype: 'FP99' }, state] }, parts);
        return {
          why: 'unknown datatype',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: /^tensor 'input' has datatype "FP99"; expected one of .*FP32/,
          code: 'DTYPE_UNSUPPORTED',
        };
      })(),
      (() => {
        const wide = new Float64Array(frame);
        const b = binaryBody({ inputs: [{ ...input, datatype: 'FP64', parameters: { binary_data_size: 576 * 8 } }, state] }, [
          new Uint8Array(wide.buffer),
          new Uint8Array(1024),
        ]);
        return {
          why: 'a datatype the model does not take',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: "input 'input' has dtype float64; expected float32",
          code: 'TENSOR_DTYPE_MISMATCH',
        };
      })(),
      (() => {
        const b = binaryBody({ inputs: [input, state, { name: 'sr', datatype: 'INT64', shape: [], data: [8000] }] }, parts);
        return {
          why: 'sr other than its constant',
          body: b.body,
          headerLength: String(b.headerLength),
          status: 400,
          error: `input 'sr' of model ${MODEL}@${VERSION} is a constant [16000]; got [8000] (leave it out, or send the constant)`,
          code: 'VALIDATION_FAILED',
        };
      })(),
    ];
    for (const c of cases) {
      const onEdge = await post(agent!.url, c.body, { 'inference-header-content-length': c.headerLength });
      const onServer = await post(server!.url, c.body, { 'inference-header-content-length': c.headerLength });
      const body = JSON.parse(onEdge.body.toString('utf8')) as { error: string; code: string };
      expect({ why: c.why, status: onEdge.status, code: body.code }).toEqual({ why: c.why, status: c.status, code: c.code });
      expect(body.error).toMatch(typeof c.error === 'string' ? new RegExp(`^${c.error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : c.error);
      expect({ why: c.why, status: onServer.status, body: JSON.parse(onServer.body.toString('utf8')) }).toEqual({ why: c.why, status: onEdge.status, body });
    }
    // None reached the server's model from the agent; only the server's own 2 model-level refusals count there.
    expect(await serverInfers()).toEqual({ ok: before.ok, failed: before.failed + 2 });
    expect(agent!.stderr()).not.toContain('local.failed');
    // Still serving, still the same numbers.
    const want = await direct(frame);
    const res = await post(agent!.url, ok.body, { 'inference-header-content-length': String(ok.headerLength) });
    expect(res.status).toBe(200);
    const again = await kserve(agent!.url).infer(MODEL, { input: windowOf(frame), state: zeros() });
    expect(bits(again.outputs['stateN'])).toEqual(bits(want.stateN));
  });

  it('forwards a version it does not cache to the server without counting it against its own model', async () => {
    const before = await serverInfers();
    for (let i = 0; i < HEALTH_MIN_CALLS + 1; i++) {
      const res = await fetch(`${agent!.url}/v2/models/${MODEL}/versions/9.9.9/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Array(256).fill(0) }] }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: `model "${MODEL}" version "9.9.9" is not registered; registered: ${MODEL}@${VERSION}`, code: 'MODEL_NOT_FOUND' });
    }
    // The server was asked each time (and said it has no such version)...
    expect((await serverInfers()).failed).toBe(before.failed + HEALTH_MIN_CALLS + 1);
    // ...and the cached model is as healthy as before: still answering here, not rolled back.
    const frame = windows[3]!;
    const got = await kserve(agent!.url).infer(MODEL, { input: windowOf(frame), state: zeros() }, { version: VERSION });
    expect(bits(got.outputs['output'])).toEqual(bits((await direct(frame)).output));
    expect(await serverInfers()).toEqual({ ok: before.ok, failed: before.failed + HEALTH_MIN_CALLS + 1 });
    expect(agent!.stderr()).not.toContain('model.rollback');
    expect(agent!.stderr()).not.toContain('local.failed');
  });

  it('answers /v2 from its cache with the server stopped', async () => {
    const frame = windows[20]!;
    const inputs = { input: windowOf(frame), state: zeros() };
    const online = await kserve(agent!.url).infer(MODEL, inputs);
    await server!.stop();
    const edge = kserve(agent!.url);
    for (const binary of [true, false]) {
      const offline = await edge.infer(MODEL, inputs, { binary });
      expect(bits(offline.outputs['output'])).toEqual(bits(online.outputs['output']));
      expect(bits(offline.outputs['stateN'])).toEqual(bits(online.outputs['stateN']));
      expect(bits(offline.outputs['stateN'])).toEqual(bits((await direct(frame)).stateN));
    }
    expect((await edge.modelMetadata(MODEL)).versions).toEqual([VERSION]);
    expect(await edge.ready(MODEL)).toBe(true);
    expect((await fetch(`${agent!.url}/v2/health/ready`)).status).toBe(200);
    // What only the server could answer says so, as the protocol's { error }.
    const res = await fetch(`${agent!.url}/v2/models/whisper/ready`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe('UPSTREAM_UNAVAILABLE');
    const other = await fetch(`${agent!.url}/v2/models/${MODEL}/versions/9.9.9/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'state', datatype: 'FP32', shape: [2, 1, 128], data: new Array(256).fill(0) }] }),
    });
    expect(other.status).toBe(502);
    expect(((await other.json()) as { error: string }).error).toMatch(
      new RegExp(`^no local answer \\(model ${MODEL}@9\\.9\\.9 is not the version cached on this agent \\(${VERSION.replace(/\./g, '\\.')}\\)\\) and `),
    );
    // A malformed frame is still refused by the agent itself.
    const bad = await post(agent!.url, Buffer.from('{"inputs": ['), { 'inference-header-content-length': '12' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString('utf8'))).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
