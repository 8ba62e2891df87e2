import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import * as ort from 'onnxruntime-node';
import type { AppRouter } from '@lepton/api';
import type { ModelManifestInput, VariantJob } from '@lepton/contracts';
import { bundledModelPath } from '@lepton/node-platform';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { openDatabase, type StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';

/**
 * Variant builds end to end on a real server: registration queues web (fp16) and edge (int8) jobs, a worker
 * thread builds and evaluates them against float32 on onnxruntime-node, and the variants appear in the registry
 * with their reports. Waiting polls `variants.jobs` until every job is finished (no timing assertions).
 */
const ADMIN = 'variants-test-admin-key';
const SILERO = 'silero-vad-v5';
const fp32Bytes = readFileSync(bundledModelPath(SILERO));
const ALSA = '/usr/share/sounds/alsa';
const hasAlsa = existsSync(ALSA) && readdirSync(ALSA).some((f) => f.endsWith('.wav'));
const MNIST = '/work/shared/models/mnist-8.onnx';

function client(url: string, key?: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });
}
type Client = ReturnType<typeof client>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Poll until every job of the version is succeeded or failed; returns them. */
async function finishedJobs(api: Client, model: string, version?: string, count = 2): Promise<VariantJob[]> {
  return vi.waitFor(
    async () => {
      const jobs = await api.variants.jobs.query({ model, ...(version ? { version } : {}) });
      if (jobs.length < count || jobs.some((j) => j.status === 'queued' || j.status === 'running')) throw new Error(`jobs not finished: ${jobs.map((j) => `${j.target}:${j.status}`).join(', ')}`);
      return jobs;
    },
    { timeout: 180_000, interval: 200 },
  );
}

/** One Silero chunk through onnxruntime-node: the speech probability. */
async function runSilero(bytes: Uint8Array): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({
    input: new ort.Tensor('float32', new Float32Array(576), [1, 576]),
    state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
    sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
  });
  await session.release();
  return (out['output']!.data as Float32Array)[0]!;
}

describe('variant builds', () => {
  let server: StartedServer;
  let admin: Client;
  let reader: Client;

  beforeAll(async () => {
    server = await startTestServer(tempDataDir(), { LEPTON_ADMIN_KEY: ADMIN, LEPTON_BUILD_VARIANTS: '1' });
    admin = client(server.url, ADMIN);
    reader = client(server.url, (await admin.apiKeys.create.mutate({ name: 'variants reader', role: 'client' })).key);
  });
  afterAll(() => server?.close());

  it('builds web (fp16) and edge (int8) variants of the bundled Silero VAD at start, with reports', async () => {
    const jobs = await finishedJobs(reader, SILERO);
    expect(jobs.map((j) => [j.target, j.status, j.pass, j.variantId, j.progress])).toEqual([
      ['web', 'succeeded', 'fp16', 'fp16-web', 1],
      ['edge', 'succeeded', 'int8-weight', 'int8-edge', 1],
    ]);
    const record = await reader.models.get.query({ id: SILERO });
    expect(record.variants.map((v) => [v.id, v.precision, v.target])).toEqual([
      ['fp16-web', 'fp16', 'web'],
      ['fp32', 'fp32', 'any'],
      ['int8-edge', 'int8', 'edge'],
    ]);
    const int8 = record.variants.find((v) => v.id === 'int8-edge')!;
    const fp16 = record.variants.find((v) => v.id === 'fp16-web')!;
    expect(int8.opset).toBe(16);
    expect(int8.size / fp32Bytes.length).toBeLessThanOrEqual(0.35);
    expect(fp16.size / fp32Bytes.length).toBeLessThan(0.6);

    const edge = jobs[1]!.report!;
    expect(edge.size).toEqual({ bytes: int8.size, referenceBytes: fp32Bytes.length, ratio: int8.size / fp32Bytes.length });
    expect(edge.data.kind).toBe(hasAlsa ? 'audio' : 'random');
    expect(edge.samples).toBeGreaterThan(hasAlsa ? 300 : 10);
    expect(edge.outputs.map((o) => o.name)).toEqual(['output']);
    const [out] = edge.outputs;
    expect(out!.decision).toEqual({ threshold: 0.5 });
    expect(out!.agreement).toBeGreaterThanOrEqual(0.95);
    expect(out!.maxAbsDiff).toBeGreaterThan(0);
    expect(out!.maxAbsDiff).toBeLessThan(0.3);
    expect(out!.sqnrDb).toBeGreaterThan(20);
    expect(edge.latency!.runs).toBe(edge.samples);
    expect(edge.latency!.ratio).toBeGreaterThan(0);
    expect(edge.passSummary['quantizedTensors']).toBeGreaterThan(0);

    const web = jobs[0]!.report!;
    expect(web.outputs[0]!.agreement).toBeGreaterThanOrEqual(0.99);
    expect(web.outputs[0]!.sqnrDb).toBeGreaterThan(40);
    expect(web.passSummary['keepIoTypes']).toBe(true);
  });

  it('serves each variant by target over HTTP with its digest, and every one loads on onnxruntime-node', async () => {
    const record = await reader.models.get.query({ id: SILERO });
    const reference = await runSilero(fp32Bytes);
    for (const [target, id] of [['edge', 'int8-edge'], ['web', 'fp16-web'], ['server', 'fp32']] as const) {
      const res = await fetch(`${server.url}/api/v1/web/models/${SILERO}/artifact?target=${target}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-lepton-variant')).toBe(id);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const variant = record.variants.find((v) => v.id === id)!;
      expect(sha256(bytes)).toBe(variant.sha256);
      expect(bytes.length).toBe(variant.size);
      expect(Math.abs((await runSilero(bytes)) - reference)).toBeLessThan(0.1);
    }
    // tRPC answers the same choice; an explicit precision still wins.
    expect((await client(server.url).variants.choose.query({ model: SILERO, target: 'edge' })).variant.id).toBe('int8-edge');
    expect((await client(server.url).variants.choose.query({ model: SILERO, target: 'server' })).variant.id).toBe('fp32');
    expect((await client(server.url).variants.choose.query({ model: SILERO, target: 'edge', precision: 'fp32' })).variant.id).toBe('fp32');
    const missing = await trpcFailure(client(server.url).variants.choose.query({ model: SILERO, precision: 'uint8' }));
    expect(missing.code).toBe('ARTIFACT_NOT_FOUND');
    expect(missing.message).toContain('fp16/web');
  });

  it('returns a variant with its report (none for the float32 reference)', async () => {
    const int8 = await reader.variants.report.query({ model: SILERO, variant: 'int8-edge' });
    expect(int8.variant.id).toBe('int8-edge');
    expect(int8.report?.pass).toBe('int8-weight');
    expect(int8.job?.status).toBe('succeeded');
    const ref = await reader.variants.report.query({ model: SILERO, variant: 'fp32' });
    expect(ref.report).toBeNull();
    const unknown = await trpcFailure(reader.variants.report.query({ model: SILERO, variant: 'int4-nowhere' }));
    expect(unknown.code).toBe('ARTIFACT_NOT_FOUND');
    expect(unknown.message).toContain('fp16-web, fp32, int8-edge');
  });

  it('a model whose passes fail gets failed jobs with a code, and the server keeps answering', async () => {
    const manifest: ModelManifestInput = { ...SILERO_VAD_V5_MANIFEST, id: 'broken-model', name: 'Not an ONNX model', version: '1.0.0' };
    const garbage = Buffer.from('this is not a protobuf ModelProto, just text that claims to be one'.repeat(4));
    const { created } = await admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: garbage.toString('base64') }] });
    expect(created).toBe(true);
    const jobs = await finishedJobs(reader, 'broken-model');
    for (const j of jobs) {
      expect(j.status).toBe('failed');
      expect(j.error?.code).toBe('MODEL_LOAD_FAILED');
      expect(j.error?.message).toMatch(/not an ONNX ModelProto/);
      expect(j.variantId).toBeNull();
    }
    expect((await reader.models.get.query({ id: 'broken-model' })).variants.map((v) => v.id)).toEqual(['fp32']);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await reader.models.list.query()).some((m) => m.id === SILERO)).toBe(true);
  });

  it.skipIf(!existsSync(MNIST))('builds mnist-8 variants (argmax over 10 classes on seeded random images)', async () => {
    const manifest: ModelManifestInput = {
      id: 'mnist-8',
      name: 'MNIST (ONNX model zoo, opset 8)',
      version: '8',
      task: 'classification',
      inputs: [{ name: 'Input3', dtype: 'float32', shape: [1, 1, 28, 28], layout: 'NCHW' }],
      outputs: [{ name: 'Plus214_Output_0', dtype: 'float32', shape: [1, 10], layout: 'NC' }],
    };
    await admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: readFileSync(MNIST).toString('base64') }] });
    const jobs = await finishedJobs(reader, 'mnist-8');
    expect(jobs.map((j) => [j.target, j.status, j.error?.code ?? null])).toEqual([
      ['web', 'succeeded', null],
      ['edge', 'succeeded', null],
    ]);
    for (const j of jobs) {
      const out = j.report!.outputs[0]!;
      expect(j.report!.data.kind).toBe('random');
      expect(out.decision).toBe('argmax');
      expect(out.decisions).toBe(j.report!.samples);
      expect(out.agreement).toBeGreaterThanOrEqual(0.9);
    }
    const record = await reader.models.get.query({ id: 'mnist-8' });
    for (const v of record.variants) {
      const res = await fetch(`${server.url}/api/v1/web/models/mnist-8/artifact?variant=${v.id}`);
      const session = await ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()));
      const out = await session.run({ Input3: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
      expect(out['Plus214_Output_0']!.dims).toEqual([1, 10]);
      await session.release();
    }
  });
});

describe('variant jobs across a restart', () => {
  it('shutdown stops a running build without taking the process down, and the next start finishes it', async () => {
    const dir = tempDataDir();
    const first = await startTestServer(dir, { LEPTON_BUILD_VARIANTS: '1' });
    await vi.waitFor(
      async () => {
        if (!(await first.variants.jobs(SILERO)).some((j) => j.status === 'running')) throw new Error('no job running yet');
      },
      { timeout: 60_000, interval: 20 },
    );
    await first.close();
    const { db } = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    const left = await db.selectFrom('variant_jobs').select(['target', 'status']).orderBy('seq').execute();
    await db.destroy();
    // The running one either finished before it saw the stop or went back to the queue; none stays running.
    expect(left.map((j) => j.target)).toEqual(['web', 'edge']);
    for (const j of left) expect(['queued', 'succeeded']).toContain(j.status);

    const second = await startTestServer(dir, { LEPTON_BUILD_VARIANTS: '1' });
    try {
      await second.variants.whenIdle();
      expect((await second.variants.jobs(SILERO)).map((j) => [j.target, j.status])).toEqual([
        ['web', 'succeeded'],
        ['edge', 'succeeded'],
      ]);
    } finally {
      await second.close();
    }
  });

  it('re-queues a job a stopped server left running and finishes it at the next start', async () => {
    const dir = tempDataDir();
    const manifest = { ...SILERO_VAD_V5_MANIFEST, id: 'silero-restart', version: '1' };
    const first = await startTestServer(dir);
    await first.registry.register(manifest, [{ precision: 'fp32', source: fp32Bytes }]);
    expect(await first.variants.jobs('silero-restart')).toEqual([]); // builds are off on this start
    await first.close();

    // What a server killed mid-build leaves behind: a running job, part done.
    const { db } = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    const now = new Date().toISOString();
    await db
      .insertInto('variant_jobs')
      .values({ id: 'vj_interrupted', model_id: 'silero-restart', version: '1', target: 'edge', pass: 'int8-auto', status: 'running', progress: 0.4, stage: 'evaluating', error_code: null, error_message: null, report: null, variant_id: null, precision: null, created_at: now, started_at: now, finished_at: null, seq: 1 })
      .execute();
    await db.destroy();

    const second = await startTestServer(dir, { LEPTON_BUILD_VARIANTS: '1' });
    try {
      // The queue starts before startServer returns; whenIdle waits for it to drain (the sweep also builds the
      // bundled model's variants; the interrupted model already has a job, so it gets no new one).
      await second.variants.whenIdle();
      const after = await second.variants.jobs('silero-restart');
      expect(after.map((j) => [j.id, j.target, j.status, j.pass, j.variantId])).toEqual([['vj_interrupted', 'edge', 'succeeded', 'int8-weight', 'int8-edge']]);
      const variant = (await second.registry.get('silero-restart')).variants.find((v) => v.id === 'int8-edge')!;
      const { report } = await second.variants.report('silero-restart', '1', 'int8-edge');
      expect(report?.size.bytes).toBe(variant.size);
      expect(report?.outputs[0]!.agreement).toBeGreaterThanOrEqual(0.95);
    } finally {
      await second.close();
    }
  });
});
