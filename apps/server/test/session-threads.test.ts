import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistBatchable, tinyBatchModel } from '@lepton/node-platform';
import { loadConfig, type StartedServer } from '../src';
import { startTestServer, tempDataDir } from './helpers';

const MNIST = ['/work/shared/models/mnist-8.onnx', new URL('../../../../shared/models/mnist-8.onnx', import.meta.url).pathname].find((p) => existsSync(p));

// The same models on a server whose sessions run on worker threads (the default) and on one whose sessions run on
// its main thread (LEPTON_SESSION_THREADS=0): both modes must give the same bits, batched or not.
const servers: Record<'threads' | 'main', StartedServer | undefined> = { threads: undefined, main: undefined };
beforeAll(async () => {
  for (const [mode, flag] of [['threads', '1'], ['main', '0']] as const) {
    const s = await startTestServer(tempDataDir(), { LEPTON_SESSION_THREADS: flag });
    const tiny = tinyBatchModel();
    await s.registry.register({ ...tiny.manifest, batching: { maxBatchSize: 64 } }, [{ precision: 'fp32', source: tiny.model }]);
    if (MNIST) {
      const m = mnistBatchable(MNIST, { batching: { maxBatchSize: 32 } });
      await s.registry.register(m.manifest, [{ precision: 'fp32', source: m.model }]);
    }
    servers[mode] = s;
  }
});
afterAll(async () => {
  await servers.threads?.close();
  await servers.main?.close();
});

/** POST a JSON header + binary parts; answer the response's binary part as bytes. */
async function inferBinary(url: string, model: string, header: unknown, parts: Uint8Array[]): Promise<number[]> {
  const json = Buffer.from(JSON.stringify(header));
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
    body: Buffer.concat([json, ...parts]),
  });
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  return Array.from(body.subarray(Number(res.headers.get('inference-header-content-length'))));
}

const f32bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('LEPTON_SESSION_THREADS', () => {
  it('reads auto/1/0 (or true/false), defaults to auto and names a bad value', () => {
    expect(loadConfig({}).sessionThreads).toBe('auto');
    expect(loadConfig({ LEPTON_SESSION_THREADS: 'auto' }).sessionThreads).toBe('auto');
    expect(loadConfig({ LEPTON_SESSION_THREADS: '0' }).sessionThreads).toBe(false);
    expect(loadConfig({ LEPTON_SESSION_THREADS: 'false' }).sessionThreads).toBe(false);
    expect(loadConfig({ LEPTON_SESSION_THREADS: '1' }).sessionThreads).toBe(true);
    expect(() => loadConfig({ LEPTON_SESSION_THREADS: '2' })).toThrow(/^invalid server configuration: LEPTON_SESSION_THREADS: expected auto, 1 or 0$/);
  });

  it('main-thread sessions answer the tiny model exactly as worker-thread sessions do', async () => {
    const header = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }, { name: 'b', shape: [1, 3], datatype: 'BOOL', parameters: { binary_data_size: 3 } }], outputs: [{ name: 'y', parameters: { binary_data: true } }] };
    const parts = [f32bytes([1, -2.5, 3, 0.125]), new Uint8Array([1, 0, 1])];
    const main = await inferBinary(servers.main!.url, 'tiny-batch', header, parts);
    expect(Array.from(new Float32Array(new Uint8Array(main).buffer))).toEqual([2, -5, 6, 0.25]);
    expect(main).toEqual(await inferBinary(servers.threads!.url, 'tiny-batch', header, parts));
  });

  it.skipIf(!MNIST)('mnist-8: concurrent (batched) requests on main-thread sessions give the bits worker-thread sessions give alone', async () => {
    const digit = (k: number) => f32bytes(Array.from({ length: 784 }, (_, i) => ((i * (k + 5)) % 13) / 12));
    const header = { inputs: [{ name: 'Input3', shape: [1, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: 3136 } }], parameters: { binary_data_output: true } };
    const alone: number[][] = [];
    for (let k = 0; k < 6; k++) alone.push(await inferBinary(servers.threads!.url, 'mnist-8', header, [digit(k)]));
    expect(alone[0]).toHaveLength(40); // 10 float32 scores
    expect(alone[0]).not.toEqual(alone[1]);
    const together = await Promise.all(Array.from({ length: 36 }, (_, i) => inferBinary(servers.main!.url, 'mnist-8', header, [digit(i % 6)])));
    together.forEach((bytes, i) => expect(bytes).toEqual(alone[i % 6]));
  });
});
