import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistBatchable, tinyBatchModel } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir } from './helpers';

const MNIST = ['/work/shared/models/mnist-8.onnx', new URL('../../../../shared/models/mnist-8.onnx', import.meta.url).pathname].find((p) => existsSync(p));

let server: StartedServer;
beforeAll(async () => {
  server = await startTestServer(tempDataDir());
  const tiny = tinyBatchModel();
  await server.registry.register({ ...tiny.manifest, batching: { maxBatchSize: 64 } }, [{ precision: 'fp32', source: tiny.model }]);
  // Holds requests for 3 s waiting for a fuller batch, with room for 2: the third is refused at once.
  await server.registry.register(
    { ...tiny.manifest, id: 'tiny-held', batching: { maxBatchSize: 64, maxQueueDelayMs: 3000, maxQueueSize: 2 } },
    [{ precision: 'fp32', source: tiny.model }],
  );
  if (MNIST) {
    const m = mnistBatchable(MNIST, { batching: { maxBatchSize: 32 } });
    await server.registry.register(m.manifest, [{ precision: 'fp32', source: m.model }]);
  }
});
afterAll(() => server?.close());

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** POST a JSON header + binary parts with Inference-Header-Content-Length, as Triton's clients do. */
async function postBinary(path: string, header: unknown, parts: Uint8Array[], headerLength?: string) {
  const json = Buffer.from(JSON.stringify(header));
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': headerLength ?? String(json.length) },
    body: Buffer.concat([json, ...parts]),
  });
  return res;
}
const postJson = (path: string, body: unknown) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Split a binary response into its JSON header and the bytes after it. */
async function readBinary(res: Response) {
  const body = Buffer.from(await res.arrayBuffer());
  const n = Number(res.headers.get('inference-header-content-length'));
  return { header: JSON.parse(body.subarray(0, n).toString('utf8')) as { outputs: { name: string; shape: number[]; parameters?: { binary_data_size: number } }[]; id?: string }, binary: body.subarray(n) };
}

const f32bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('KServe v2 metadata and health', () => {
  it('answers server metadata, liveness, readiness', async () => {
    expect(await get('/v2')).toEqual({ status: 200, body: { name: 'lepton', version: '0.1.0', extensions: ['binary_tensor_data'] } });
    expect((await get('/v2/health/live')).status).toBe(200);
    expect((await get('/v2/health/ready')).status).toBe(200);
  });

  it('describes a model (Silero: sr is fed by the server, so it is not listed) and its versions', async () => {
    const meta = await get('/v2/models/silero-vad-v5');
    expect(meta).toEqual({
      status: 200,
      body: {
        name: 'silero-vad-v5',
        versions: ['5.0.0'],
        platform: 'onnxruntime_onnx',
        inputs: [
          { name: 'input', datatype: 'FP32', shape: [1, 576] },
          { name: 'state', datatype: 'FP32', shape: [2, 1, 128] },
        ],
        outputs: [
          { name: 'output', datatype: 'FP32', shape: [1, 1] },
          { name: 'stateN', datatype: 'FP32', shape: [2, 1, 128] },
        ],
      },
    });
    expect(await get('/v2/models/silero-vad-v5/versions/5.0.0')).toEqual(meta);
    expect((await get('/v2/models/tiny-batch')).body['inputs']).toEqual([
      { name: 'x', datatype: 'FP32', shape: [-1, 4] },
      { name: 'b', datatype: 'BOOL', shape: [-1, 3] },
    ]);
    expect(await get('/v2/models/silero-vad-v5/ready')).toEqual({ status: 200, body: { name: 'silero-vad-v5', version: '5.0.0', ready: true } });
    expect((await get('/v2/models/silero-vad-v5/versions/5.0.0/ready')).status).toBe(200);
  });

  it('answers 404 { error } for unknown models and versions', async () => {
    for (const path of ['/v2/models/nope', '/v2/models/nope/ready', '/v2/models/silero-vad-v5/versions/9/ready']) {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body['error']).toMatch(/is not registered/);
    }
  });
});

describe('KServe v2 infer', () => {
  it('runs the spec-shaped binary example (16 + 3 bytes) on a real model and echoes the request id', async () => {
    const header = {
      id: 'req-7',
      inputs: [
        { name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } },
        { name: 'b', shape: [1, 3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'n' }],
    };
    const res = await postBinary('/v2/models/tiny-batch/infer', header, [f32bytes([1, -2.5, 3, 0.125]), new Uint8Array([1, 0, 1])]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { header: h, binary } = await readBinary(res);
    expect(h).toEqual({
      model_name: 'tiny-batch',
      model_version: '1',
      id: 'req-7',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
        { name: 'n', datatype: 'BOOL', shape: [1, 3], data: [false, true, false] },
      ],
    });
    expect(Array.from(new Float32Array(binary.buffer.slice(binary.byteOffset, binary.byteOffset + 16)))).toEqual([2, -5, 6, 0.25]);
  });

  it('runs JSON tensors on Silero and gives the same bits as the binary path', async () => {
    const x = Array.from({ length: 576 }, (_, i) => Math.fround(Math.sin(i / 7) / 3));
    const json = await postJson('/v2/models/silero-vad-v5/infer', {
      inputs: [
        { name: 'input', shape: [1, 576], datatype: 'FP32', data: x },
        { name: 'state', shape: [2, 1, 128], datatype: 'FP32', data: new Array(256).fill(0) },
      ],
      outputs: [{ name: 'output' }],
    });
    expect(json.status).toBe(200);
    const jb = (await json.json()) as { outputs: { name: string; data: number[] }[] };
    expect(jb.outputs.map((o) => o.name)).toEqual(['output']);
    const p = jb.outputs[0]!.data[0]!;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);

    const bin = await postBinary(
      '/v2/models/silero-vad-v5/versions/5.0.0/infer',
      {
        inputs: [
          { name: 'input', shape: [1, 576], datatype: 'FP32', parameters: { binary_data_size: 2304 } },
          { name: 'state', shape: [2, 1, 128], datatype: 'FP32', parameters: { binary_data_size: 1024 } },
        ],
        parameters: { binary_data_output: true },
      },
      [f32bytes(x), new Uint8Array(1024)],
    );
    const { header, binary } = await readBinary(bin);
    expect(header.outputs.map((o) => [o.name, o.parameters?.binary_data_size])).toEqual([
      ['output', 4],
      ['stateN', 1024],
    ]);
    // JSON carries the shortest decimal that reads back to the same float32.
    expect(new Float32Array(binary.buffer.slice(binary.byteOffset, binary.byteOffset + 4))[0]).toBe(Math.fround(p));
  });

  it.skipIf(!MNIST)('serves mnist-8: concurrent requests are batched and each gets the answer it gets alone', async () => {
    const digit = (k: number) => f32bytes(Array.from({ length: 784 }, (_, i) => ((i * (k + 3)) % 17) / 16));
    const one = async (k: number) => {
      const res = await postBinary(
        '/v2/models/mnist-8/infer',
        { inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } }], parameters: { binary_data_output: true } },
        [digit(k)],
      );
      expect(res.status).toBe(200);
      return Array.from((await readBinary(res)).binary);
    };
    const alone: number[][] = [];
    for (let k = 0; k < 8; k++) alone.push(await one(k));
    const together = await Promise.all(Array.from({ length: 48 }, (_, i) => one(i % 8)));
    together.forEach((bytes, i) => expect(bytes).toEqual(alone[i % 8]));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{model="mnist-8",version="8"\\} (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(value('lepton_inference_count_total')).toBe(56);
    expect(value('lepton_inference_request_success_total')).toBe(56);
    // Batching ran fewer executions than inferences whenever requests overlapped (how many depends on timing).
    expect(value('lepton_inference_exec_count_total')).toBeLessThanOrEqual(56);
  });

  it('answers 503 with Retry-After when the model queue is full', async () => {
    const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] };
    const held = [postJson('/v2/models/tiny-held/infer', body), postJson('/v2/models/tiny-held/infer', body)];
    // Wait until both are queued (the gauge counts them), then the third finds the queue full.
    for (let i = 0; i < 200; i++) {
      const m = await (await fetch(`${server.url}/metrics`)).text();
      if (/lepton_inference_pending_requests\{model="tiny-held",version="1"\} 2/.test(m)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const refused = await postJson('/v2/models/tiny-held/infer', body);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/2 requests queued, its maxQueueSize/), code: 'QUEUE_FULL' });
    // tRPC answers the same overload with 503 SERVICE_UNAVAILABLE and the same Retry-After.
    const trpc = await postJson('/trpc/infer', {
      model: 'tiny-held',
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 4], data: [1, 2, 3, 4] },
        { name: 'b', dtype: 'bool', shape: [1, 3], data: [true, false, true] },
      ],
    });
    expect(trpc.status).toBe(503);
    expect(trpc.headers.get('retry-after')).toBe('1');
    expect(((await trpc.json()) as { error: { data: { lepton: { code: string } } } }).error.data.lepton.code).toBe('QUEUE_FULL');
    for (const r of await Promise.all(held)) expect(r.status).toBe(200);
  });
});

describe('malformed requests: each a 4xx { error } with a message, and the server keeps serving', () => {
  const tinyHeader = (xSize: number, extra: object = {}) => ({
    inputs: [
      { name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: xSize } },
      { name: 'b', shape: [1, 3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
    ],
    ...extra,
  });
  const cases: [string, () => Promise<Response>, number, RegExp][] = [
    ['header length past the body', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(16), [new Uint8Array(19)], '100000'), 400, /past the end of the \d+-byte body/],
    ['header length not a number', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(16), [new Uint8Array(19)], 'abc'), 400, /Inference-Header-Content-Length/],
    ['binary size not dtype x shape', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(12), [new Uint8Array(15)]), 400, /needs 16 bytes, binary_data_size is 12/],
    ['binary sizes past the body', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(16), [new Uint8Array(10)]), 400, /runs past the end of the body/],
    ['bytes after the last tensor', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(16), [new Uint8Array(25)]), 400, /6 bytes follow the last binary tensor/],
    ['binary_data_size 2^60 (an integer, past 2^53)', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(2 ** 60), [new Uint8Array(19)]), 413, /tensor 'x': binary_data_size 1152921504606847000 is too large; the limit is \d+ bytes/],
    [
      'data: null',
      () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: null }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] }),
      400,
      /tensor 'x' data is null; expected an array of 4 values for FP32 \[1, 4\], or a binary_data_size parameter/,
    ],
    // The protocol's data is an array (flat or nested): a string was counted as one value ("data holds 1").
    [
      'data: "abc"',
      () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: 'abc' }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] }),
      400,
      /^tensor 'x' data is the string "abc"; expected an array of 4 values for FP32 \[1, 4\], or a binary_data_size parameter; the array may be flat or nested by the shape$/,
    ],
    [
      'data: true (not [true]) for a one-element tensor',
      () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [1], datatype: 'BOOL', data: true }] }),
      400,
      /^tensor 'b' data is the boolean true; expected an array of 1 values for BOOL \[1\], or a binary_data_size parameter; the array may be flat or nested by the shape$/,
    ],
    ['BOOL binary byte other than 0 or 1', () => postBinary('/v2/models/tiny-batch/infer', tinyHeader(16), [new Uint8Array(16), new Uint8Array([1, 7, 0])]), 400, /tensor 'b': BOOL byte 1 is 7; expected 0 \(false\) or 1 \(true\)/],
    [
      'JSON BOOL "yes"',
      () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, 'yes', false] }] }),
      400,
      /tensor 'b' data\[1\] is "yes"; expected true or false \(or 1 or 0\)/,
    ],
    ['negative dim', () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [-1, 4], datatype: 'FP32', data: [1] }] }), 400, /shape\[0\] is -1/],
    [
      'huge dims',
      () => postBinary('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [4294967296, 4294967296, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] }, [new Uint8Array(16)]),
      400,
      /more than 2\^53 elements/,
    ],
    ['wrong datatype name', () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FLOAT32', data: [1, 2, 3, 4] }] }), 400, /datatype "FLOAT32"/],
    ['wrong dtype for the model', () => postJson('/v2/models/tiny-batch/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [1, 0, 1] }] }), 400, /dtype float64; expected float32/],
    [
      'an output asked for twice',
      () =>
        postJson('/v2/models/tiny-batch/infer', {
          inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }],
          outputs: [{ name: 'y' }, { name: 'y', parameters: { binary_data: true } }],
        }),
      400,
      /^output 'y' is asked for twice; each output may appear once in outputs$/,
    ],
    ['not JSON', () => fetch(`${server.url}/v2/models/tiny-batch/infer`, { method: 'POST', body: '{"inputs": [' }), 400, /not valid JSON/],
    ['empty body', () => fetch(`${server.url}/v2/models/tiny-batch/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }), 400, /empty/],
    ['no inputs', () => postJson('/v2/models/tiny-batch/infer', { inputs: [] }), 400, /inputs/],
    ['unknown model', () => postJson('/v2/models/nope/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] }), 404, /not registered/],
  ];
  it.each(cases)('%s', async (_name, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(message);
    expect((await get('/v2/health/live')).status).toBe(200);
  });
});
