import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelPath, ortNode, postWavStream } from '@lepton/node-platform';
import { cutWav, speechFixture } from '@lepton/test-fixtures';
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
      // A 0-byte file: one code on both surfaces (tRPC said VALIDATION_FAILED 'Too small', the decoder WAV_TRUNCATED).
      ['0 bytes', Buffer.alloc(0), 'WAV_EMPTY'],
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

  it('answers a cut file (data chunk larger than the file) as read, with a WAV_TRUNCATED warning on both surfaces', async () => {
    const good = new Uint8Array(readFileSync(speechFixture('quick').path));
    const complete = await client.vad.detect.mutate({ wav: b64(good), includeProbabilities: true });
    expect('warnings' in complete).toBe(false);
    expect('warnings' in (await postWavStream(server.url, good))).toBe(false);
    // 2 s of 16 kHz 16-bit audio: the sentence starts at 1.0 s.
    const cut = cutWav(good, 2 * 16000 * 2);
    const warnings = [
      {
        code: 'WAV_TRUNCATED',
        message: `WAV data chunk declares ${cut.declaredBytes} bytes, the file holds 64000; read 64000 (the file looks cut short)`,
        details: { declaredBytes: cut.declaredBytes, readBytes: 64000 },
      },
    ];
    const inline = await client.vad.detect.mutate({ wav: b64(cut.bytes), includeProbabilities: true });
    expect(inline.warnings).toEqual(warnings);
    expect(inline.durationSec).toBe(2);
    expect(inline.probabilities!.slice(0, 62)).toEqual(complete.probabilities!.slice(0, 62));
    // Streamed without a length, in small pieces: the server learns the file is cut when the body ends, and says
    // so in the answer it sends then.
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < cut.bytes.length; o += 4096) {
        await new Promise((r) => setImmediate(r));
        yield cut.bytes.subarray(o, o + 4096);
      }
    }
    const streamed = await postWavStream(server.url, pieces(), { includeProbabilities: true });
    expect(streamed.warnings).toEqual(warnings);
    expect(streamed.segments).toEqual(inline.segments);
    expect(streamed.probabilities).toEqual(inline.probabilities);
    // On the wire, as the route sends it.
    const res = await fetch(`${server.url}/api/v1/vad/detect`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: new Uint8Array(cut.bytes) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { warnings: unknown }).warnings).toEqual(warnings);
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

describe('byte ranges on the artifact routes (RFC 9110 §14)', () => {
  const url = () => `${server.url}/api/v1/web/models/silero-vad-v5/artifact?version=5.0.0&variant=fp32`;
  const model = readFileSync(bundledModelPath('silero-vad-v5'));
  const size = model.length;
  const etag = `"sha256:${createHash('sha256').update(model).digest('hex')}"`;
  const get = (headers: Record<string, string>, method = 'GET') => fetch(url(), { method, headers });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=0-1023', 0, 1023],
    ['bytes=1000-', 1000, size - 1],
    ['bytes=0-', 0, size - 1],
    ['bytes=-500', size - 500, size - 1],
    [`bytes=-${size + 10}`, 0, size - 1],
    [`bytes=100-${size + 5000}`, 100, size - 1],
    [`bytes=${size - 1}-`, size - 1, size - 1],
    ['Bytes=5-9', 5, 9],
    ['bytes= 5-9 ,', 5, 9],
  ])('%s answers 206 with exactly those bytes', async (range, start, end) => {
    const res = await get({ range });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
    expect(res.headers.get('content-length')).toBe(String(end - start + 1));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toBe(etag);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(end - start + 1);
    expect(body.equals(model.subarray(start, end + 1))).toBe(true);
  });

  it.each([
    [`bytes=${size}-`, `its first position ${size} is at or past the end`],
    [`bytes=${size + 100}-${size + 200}`, `its first position ${size + 100} is at or past the end`],
    ['bytes=-0', 'a suffix of 0 bytes selects nothing'],
  ])('%s answers 416 RANGE_NOT_SATISFIABLE with Content-Range bytes */size', async (range, why) => {
    const res = await get({ range });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${size}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { code: string; message: string; details: unknown };
    expect(body.code).toBe('RANGE_NOT_SATISFIABLE');
    expect(body.message).toContain(JSON.stringify(range));
    expect(body.message).toContain(why);
    expect(body.message).toContain(`the artifact has ${size} bytes`);
    expect(body.details).toEqual({ range, size });
  });

  it.each([
    ['items=0-10'],
    ['bytes=abc'],
    ['bytes=10-5'],
    ['bytes='],
    ['bytes 0-10'],
    ['bytes=0-10,20-30'],
    ['bytes=0-0,-1'],
  ])('%s is ignored: 200 with the whole body', async (range) => {
    const res = await get({ range });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBeNull();
    expect(res.headers.get('content-length')).toBe(String(size));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await res.arrayBuffer()).equals(model)).toBe(true);
  });

  it('honours If-Range only when it is the ETag (a changed artifact sends the whole body)', async () => {
    const same = await get({ range: 'bytes=10-19', 'if-range': etag });
    expect(same.status).toBe(206);
    expect(Buffer.from(await same.arrayBuffer()).equals(model.subarray(10, 20))).toBe(true);
    for (const other of ['"sha256:0000"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const res = await get({ range: 'bytes=10-19', 'if-range': other });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(model)).toBe(true);
    }
    // Not matching wins over unsatisfiable: the client gets the new artifact, not a 416.
    expect((await get({ range: `bytes=${size}-`, 'if-range': '"sha256:0000"' })).status).toBe(200);
  });

  it('HEAD describes the whole body (Range is defined for GET only) without a body', async () => {
    for (const headers of [{}, { range: 'bytes=0-9' }] as Record<string, string>[]) {
      const res = await get(headers, 'HEAD');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(size));
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('content-range')).toBeNull();
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
    // The device route takes HEAD too, and authenticates it.
    expect((await fetch(`${server.url}/api/v1/models/silero-vad-v5/artifact`, { method: 'HEAD' })).status).toBe(401);
  });
});

describe('what no route handles', () => {
  it.each([
    ['GET', '/nope', 'no route GET /nope; see /openapi.json for the routes'],
    ['DELETE', '/healthz?x=1', 'no route DELETE /healthz; see /openapi.json for the routes'],
    ['POST', '/api/v1/models/silero-vad-v5/artifact', 'no route POST /api/v1/models/silero-vad-v5/artifact; see /openapi.json for the routes'],
  ])('%s %s answers 404 ROUTE_NOT_FOUND in the Lepton shape', async (method, path, message) => {
    const res = await fetch(`${server.url}${path}`, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ code: 'ROUTE_NOT_FOUND', message, details: { method, path: path.split('?')[0] } });
  });

  it('answers unknown /v2 paths and wrong methods in the KServe shape { error, code }', async () => {
    for (const [method, path] of [['GET', '/v2/models/x/infer'], ['GET', '/v2/nope'], ['PUT', '/v2']] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: `no route ${method} ${path}; see /openapi.json for the routes`, code: 'ROUTE_NOT_FOUND' });
    }
  });

  it('keeps / and the /ort/ files; a file /ort/ does not serve is ROUTE_NOT_FOUND', async () => {
    const home = await fetch(`${server.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    const map = await fetch(`${server.url}/ort/ort.min.js.map`);
    expect(((await map.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
  });

  it('serves a built web app, its assets and / with the SPA hash routes, and 404s the rest with a code', async () => {
    const web = tempDataDir();
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Lepton</title><div id="app"></div>');
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log("lepton")');
    const withWeb = await startTestServer(tempDataDir(), { LEPTON_WEB_DIR: web });
    try {
      const home = await fetch(`${withWeb.url}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('<div id="app">');
      // `/#parity` is `/` on the wire: the fragment never leaves the browser.
      expect((await fetch(`${withWeb.url}/#parity`)).status).toBe(200);
      const asset = await fetch(`${withWeb.url}/assets/app.js`);
      expect(asset.status).toBe(200);
      expect(await asset.text()).toBe('console.log("lepton")');
      const missing = await fetch(`${withWeb.url}/assets/nope.js`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', message: 'no route GET /assets/nope.js; see /openapi.json for the routes' });
      expect(await (await fetch(`${withWeb.url}/v2/models/x/infer`)).json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
      expect((await fetch(`${withWeb.url}/healthz`)).status).toBe(200);
    } finally {
      await withWeb.close();
    }
  });

  /** Raw bytes to the server, and everything it answers until it closes the connection. */
  function raw(bytes: string, halfClose = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(bytes);
        if (halfClose) socket.end();
      });
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string; message: string };

  it('answers malformed HTTP with 400 BAD_REQUEST naming the parse error', async () => {
    const answer = await raw('GARBAGE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
    const body = bodyOf(answer);
    expect(body.code).toBe('BAD_REQUEST');
    expect(body.message).toMatch(/^malformed HTTP request \(HPE_[A-Z_]+: /);
    const header = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(header).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(header)).toMatchObject({ code: 'HEADERS_TOO_LARGE', message: expect.stringContaining('request headers are larger than the') });
  });

  it('answers a tRPC mutation called by GET (and a query by POST) with 405 METHOD_NOT_ALLOWED, a code whose status is the one sent', async () => {
    const get = await fetch(`${server.url}/trpc/infer?input=${encodeURIComponent('{}')}`);
    expect(get.status).toBe(405);
    const body = (await get.json()) as { error: { message: string; data: { lepton: { code: string; message: string } } } };
    expect(body.error.data.lepton).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const post = await fetch(`${server.url}/trpc/models.list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(405);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers an upload cut off before its declared length with 400 BAD_REQUEST, and keeps serving', async () => {
    const answer = await raw('POST /api/v1/vad/detect HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nContent-Length: 1000\r\n\r\nRIFF', true);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(answer)).toEqual({
      code: 'BAD_REQUEST',
      message: 'the connection ended before the request was complete (HPE_INVALID_EOF_STATE): a body shorter than its Content-Length, or cut-off headers',
      details: { reason: 'HPE_INVALID_EOF_STATE' },
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
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
