import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeptonClient, type LeptonClient } from '@lepton/client';
import { tinyBatchModel } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir } from './helpers';

let server: StartedServer;
let client: LeptonClient;
beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_SESSIONS_PER_MODEL: '1' });
  const tiny = tinyBatchModel();
  await server.registry.register(tiny.manifest, [{ precision: 'fp32', source: tiny.model }]);
  client = createLeptonClient({ url: server.url });
});
afterAll(() => server?.close());

const inputs = () => ({
  x: { dtype: 'float32' as const, shape: [2, 4], data: new Float32Array([1, 2, 3, 4, -1, 0.5, NaN, Infinity]) },
  b: { dtype: 'bool' as const, shape: [2, 3], data: new Uint8Array([1, 0, 0, 0, 1, 1]) },
});

describe('@lepton/client', () => {
  it('calls tRPC procedures with types from AppRouter', async () => {
    const models = await client.trpc.models.list.query();
    expect(models.map((m) => m.id).sort()).toEqual(['silero-vad-v5', 'tiny-batch']);
  });

  it('runs KServe infer with binary tensors, exactly (NaN and infinities included)', async () => {
    const res = await client.kserve.infer('tiny-batch', inputs(), { id: 'abc' });
    expect(res.id).toBe('abc');
    expect(res.version).toBe('1');
    expect(res.outputs['y']).toEqual({ dtype: 'float32', shape: [2, 4], data: new Float32Array([2, 4, 6, 8, -2, 1, NaN, Infinity]) });
    expect(res.outputs['n']).toEqual({ dtype: 'bool', shape: [2, 3], data: new Uint8Array([0, 1, 1, 1, 0, 0]) });
  });

  it('runs KServe infer with JSON tensors and picks outputs', async () => {
    const res = await client.kserve.infer('tiny-batch', inputs(), { binary: false, outputs: ['n'] });
    expect(Object.keys(res.outputs)).toEqual(['n']);
    expect(Array.from(res.outputs['n']!.data as Uint8Array)).toEqual([0, 1, 1, 1, 0, 0]);
  });

  it('reads metadata and readiness, and reports server errors with their code', async () => {
    expect((await client.kserve.serverMetadata()).extensions).toContain('binary_tensor_data');
    expect((await client.kserve.modelMetadata('tiny-batch')).outputs.map((o) => o.name)).toEqual(['y', 'n']);
    expect(await client.kserve.ready('tiny-batch')).toBe(true);
    expect(await client.kserve.ready('nope')).toBe(false);
    await expect(client.kserve.infer('tiny-batch', { x: inputs().x })).rejects.toMatchObject({ code: 'INPUT_MISSING' });
  });
});
