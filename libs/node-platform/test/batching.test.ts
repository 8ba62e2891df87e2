import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@lepton/tensor-core';
import { createModelRunner, createPredictor, unbatchableReason, type BatchExecution, type Feeds } from '@lepton/runtime';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath, mnistBatchable, ort, threadedOrt, tinyBatchModel } from '../src';

const MNIST = '/work/shared/models/mnist-8.onnx';
const mnistPath = [MNIST, new URL('../../../../shared/models/mnist-8.onnx', import.meta.url).pathname].find((p) => existsSync(p));

const f32 = (rows: number, seed: number): Tensor => {
  const data = new Float32Array(rows * 4);
  for (let i = 0; i < data.length; i++) data[i] = seed + i * 0.25;
  return { dtype: 'float32', shape: [rows, 4], data };
};
const bools = (rows: number, seed: number): Tensor => ({
  dtype: 'bool',
  shape: [rows, 3],
  data: Uint8Array.from({ length: rows * 3 }, (_, i) => (i + seed) % 2),
});

async function tinyRunner(sessions: number, batching: object, log: BatchExecution[]) {
  const { model, manifest } = tinyBatchModel();
  const predictors = await Promise.all(Array.from({ length: sessions }, () => createPredictor({ manifest, model, ort })));
  return createModelRunner({ predictors, batching, onExecute: (e) => log.push(e) });
}

describe('dynamic batching on a real onnxruntime session', () => {
  it('stacks concurrent requests into one run and gives each caller exactly its own rows', async () => {
    const log: BatchExecution[] = [];
    const runner = await tinyRunner(1, { maxBatchSize: 32, maxQueueDelayMs: 0 }, log);
    expect(runner.unbatchableReason).toBeUndefined();
    const reqs: Feeds[] = Array.from({ length: 10 }, (_, k) => ({ x: f32(1 + (k % 3), k), b: bools(1 + (k % 3), k) }));
    const outs = await Promise.all(reqs.map((r) => runner.run(r)));
    outs.forEach((o, k) => {
      const x = reqs[k]!['x']!.data as Float32Array;
      expect(o['y']!.shape).toEqual([x.length / 4, 4]);
      expect(Array.from(o['y']!.data as Float32Array)).toEqual(Array.from(x, (v) => v * 2));
      expect(Array.from(o['n']!.data as Uint8Array)).toEqual(Array.from(reqs[k]!['b']!.data as Uint8Array, (v) => 1 - v));
    });
    // The first request runs alone (the session was idle); the other nine queue behind it and share one run.
    expect(log.map((e) => e.requests)).toEqual([1, 9]);
    expect(log.reduce((a, e) => a + e.rows, 0)).toBe(reqs.reduce((a, r) => a + r['x']!.shape[0]!, 0));
    await runner.release();
  });

  it('never stacks requests whose trailing dims differ, and respects maxBatchSize in rows', async () => {
    const log: BatchExecution[] = [];
    const runner = await tinyRunner(1, { maxBatchSize: 4 }, log);
    const outs = await Promise.all([1, 3, 2, 2, 1].map((rows, k) => runner.run({ x: f32(rows, k), b: bools(rows, k) })));
    expect(outs.map((o) => o['y']!.shape[0])).toEqual([1, 3, 2, 2, 1]);
    for (const e of log) expect(e.rows).toBeLessThanOrEqual(4);
    await runner.release();
  });

  it('answers QUEUE_FULL once maxQueueSize requests wait, and the queued ones still finish', async () => {
    const log: BatchExecution[] = [];
    const runner = await tinyRunner(1, { maxBatchSize: 1, maxQueueSize: 2 }, log);
    const calls = Array.from({ length: 5 }, (_, k) => runner.run({ x: f32(1, k), b: bools(1, k) }).then(() => 'ok', (e: { code: string }) => e.code));
    // One runs, two queue, two are refused at once.
    expect(await Promise.all(calls)).toEqual(['ok', 'ok', 'ok', 'QUEUE_FULL', 'QUEUE_FULL']);
    await runner.release();
  });

  it('rejects a bad request before it joins a batch (the others are unaffected)', async () => {
    const runner = await tinyRunner(1, { maxBatchSize: 8 }, []);
    const good = runner.run({ x: f32(2, 1), b: bools(2, 1) });
    const bad = runner.run({ x: f32(2, 1), b: bools(3, 1) }).catch((e: { code: string }) => e.code);
    expect((await good)['y']!.shape).toEqual([2, 4]);
    expect(await bad).toBe('TENSOR_SHAPE_MISMATCH');
    await runner.release();
  });

  it('spreads requests over a pool of sessions', async () => {
    const log: BatchExecution[] = [];
    const runner = await tinyRunner(2, { maxBatchSize: 1 }, log);
    await Promise.all(Array.from({ length: 6 }, (_, k) => runner.run({ x: f32(1, k), b: bools(1, k) })));
    expect(new Set(log.map((e) => e.worker))).toEqual(new Set([0, 1]));
    await runner.release();
  });

  it('runs sessions on worker threads with the same bits as the main thread (Silero, 20 chained steps)', async () => {
    const model = new Uint8Array((await import('node:fs')).readFileSync(bundledModelPath('silero-vad-v5')));
    const main = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model, ort });
    const threaded = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model, ort: threadedOrt() });
    const a = main.openStream();
    const b = threaded.openStream();
    for (let k = 0; k < 20; k++) {
      const input: Tensor = { dtype: 'float32', shape: [1, 576], data: Float32Array.from({ length: 576 }, (_, i) => Math.sin((i + k * 512) / 11) / 3) };
      const [x, y] = await Promise.all([a.step({ input }), b.step({ input })]);
      expect(Array.from(y['output']!.data as Float32Array)).toEqual(Array.from(x['output']!.data as Float32Array));
      expect(y['stateN']).toEqual(x['stateN']);
    }
    await threaded.release();
    await main.release();
    await expect(threaded.run({})).rejects.toMatchObject({ code: 'INPUT_MISSING' });
  });

  it('reports a model a worker cannot load as MODEL_LOAD_FAILED', async () => {
    await expect(createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: new Uint8Array([1, 2, 3]), ort: threadedOrt() })).rejects.toMatchObject({
      code: 'MODEL_LOAD_FAILED',
    });
  });

  it('never batches a stateful model (Silero VAD) or one with a fixed dim 0', () => {
    expect(unbatchableReason(SILERO_VAD_V5_MANIFEST)).toMatch(/stateful/);
    const fixed = { ...SILERO_VAD_V5_MANIFEST, state: [] };
    expect(unbatchableReason(fixed)).toMatch(/no symbolic dim 0/);
  });

  it.skipIf(!mnistPath)('mnist-8 with a symbolic batch dim gives every row the bits the original batch-1 model gives', async () => {
    const { model, manifest } = mnistBatchable(mnistPath!);
    const batched = await createPredictor({ manifest, model, ort });
    const original = await ort.InferenceSession.create(new Uint8Array((await import('node:fs')).readFileSync(mnistPath!)));
    const rows = 5;
    const x = new Float32Array(rows * 784);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 256) / 255;
    const out = await batched.run({ Input3: { dtype: 'float32', shape: [rows, 1, 28, 28], data: x } });
    const y = out['Plus214_Output_0']!.data as Float32Array;
    for (let r = 0; r < rows; r++) {
      const one = await original.run({ Input3: new ort.Tensor('float32', x.slice(r * 784, (r + 1) * 784), [1, 1, 28, 28]) });
      expect(Array.from(y.subarray(r * 10, r * 10 + 10))).toEqual(Array.from(one['Plus214_Output_0']!.data as Float32Array));
    }
    await batched.release();
    await original.release();
  });
});
