import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath } from '@lepton/node-platform';
import { canonicalJson } from '@lepton/contracts';
import { ArtifactStore, DeviceRegistry, ModelRegistry, openDatabase, sha256Hex, type OpenedDatabase, type StartedServer } from '../src';
import { ApiKeys } from '../src/auth/api-keys';
import { DeploymentService } from '../src/deployments/deployment-service';
import { Signer } from '../src/signing/signer';
import { TelemetryStore } from '../src/telemetry/telemetry-store';
import { JobStore } from '../src/variants/job-store';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';
import { postgresSkipReason, startPostgres, type PostgresCluster } from './postgres';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';

const MODEL = 'silero-vad-v5';
const MODEL_FILE = bundledModelPath(MODEL);
const MODEL_BYTES = readFileSync(MODEL_FILE);
const MODEL_SHA = createHash('sha256').update(MODEL_BYTES).digest('hex');
const MIGRATIONS = ['0001_registry', '0002_devices', '0003_fleet', '0004_variant_jobs', '0005_variant_session_options', '0006_postgres_types'];

let cluster: PostgresCluster;
let dbCount = 0;
const opened: OpenedDatabase[] = [];

/** A fresh database of the cluster, so each test starts empty. */
async function freshUrl(): Promise<string> {
  return cluster.createDatabase(`lepton_${++dbCount}`);
}

async function open(url: string | undefined, dir = tempDataDir()) {
  const o = await openDatabase({ dataDir: dir, databaseUrl: url });
  opened.push(o);
  const artifacts = new ArtifactStore(join(dir, 'artifacts'));
  const registry = new ModelRegistry(o.db, artifacts);
  const signer = await Signer.open(dir);
  return {
    ...o,
    dir,
    artifacts,
    registry,
    devices: new DeviceRegistry(o.db),
    keys: new ApiKeys(o.db),
    deployments: new DeploymentService(o.db, registry, signer),
    telemetry: new TelemetryStore(o.db),
    jobs: new JobStore(o.db),
  };
}

function client(url: string, key?: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });
}

describe.skipIf(postgresSkipReason !== undefined)('PostgreSQL registry (a real PostgreSQL server)', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
    console.log(`[postgres tests] ${cluster.version}`);
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.db.destroy();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  describe('migrations', () => {
    it('openDatabase with a postgres:// URL runs every migration, and running it again changes nothing', async () => {
      const url = await freshUrl();
      const first = await open(url);
      expect(first.dialect).toBe('postgres');
      expect(first.location).toBe(url);
      const applied = async () => (await cluster.query<{ name: string }>('select name from kysely_migration order by name', [], url)).map((r) => r.name);
      expect(await applied()).toEqual(MIGRATIONS);
      const tables = await cluster.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely%' order by table_name",
        [],
        url,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'api_keys',
        'artifacts',
        'deployment_devices',
        'deployments',
        'devices',
        'enrollment_tokens',
        'model_versions',
        'models',
        'telemetry',
        'variant_jobs',
        'variants',
      ]);
      await first.db.destroy();
      opened.length = 0;
      const second = await open(url);
      expect(await applied()).toEqual(MIGRATIONS);
      await second.registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: { file: MODEL_FILE } }]);
      // A third opening on a database with rows in it.
      const third = await open(url);
      expect((await third.registry.list()).map((r) => `${r.id}@${r.version}`)).toEqual(['silero-vad-v5@5.0.0']);
    });

    it('two servers starting at once on an empty database migrate it once', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([open(url), open(url)]);
      expect([a.dialect, b.dialect]).toEqual(['postgres', 'postgres']);
      const rows = await cluster.query<{ n: string }>('select count(*) as n from kysely_migration', [], url);
      expect(Number(rows[0]!.n)).toBe(MIGRATIONS.length);
    });

    it('stores sizes as bigint, fractions as double precision and text with byte order (collation "C"), as SQLite does', async () => {
      const url = await freshUrl();
      await open(url);
      const cols = await cluster.query<{ table_name: string; column_name: string; data_type: string; collation_name: string | null }>(
        "select table_name, column_name, data_type, collation_name from information_schema.columns where table_schema = 'public' and table_name not like 'kysely%'",
        [],
        url,
      );
      const type = (t: string, c: string) => cols.find((x) => x.table_name === t && x.column_name === c)?.data_type;
      expect(type('artifacts', 'size')).toBe('bigint');
      expect(type('variants', 'size')).toBe('bigint');
      for (const [t, c] of [
        ['deployments', 'max_failure_rate'],
        ['deployments', 'error_rate_threshold'],
        ['telemetry', 'latency_ms'],
        ['variant_jobs', 'progress'],
      ] as const) {
        expect(`${t}.${c}: ${type(t, c)}`).toBe(`${t}.${c}: double precision`);
      }
      const text = cols.filter((c) => c.data_type === 'text');
      expect(text.length).toBeGreaterThan(60);
      expect(text.filter((c) => c.collation_name !== 'C').map((c) => `${c.table_name}.${c.column_name}`)).toEqual([]);
    });

    it('keeps serving after PostgreSQL drops its idle connections (the pool opens new ones, the process lives)', async () => {
      const url = await freshUrl();
      const { registry } = await open(url);
      await registry.register(SILERO_VAD_V5_MANIFEST, []);
      await Promise.all([registry.list(), registry.list(), registry.list()]); // several idle connections in the pool
      const warnings: string[] = [];
      const onWarning = (w: Error & { code?: string }) => warnings.push(`${w.code}: ${w.message}`);
      process.on('warning', onWarning);
      try {
        const killed = await cluster.query<{ pid: number }>(
          'with victims as materialized (select pid from pg_stat_activity where datname = $1) select pid from victims where pg_terminate_backend(pid)',
          [url.split('/').pop()],
        );
        expect(killed.length).toBeGreaterThan(0);
        // Wait until each dropped connection has told the pool (one warning each), then query again.
        for (let i = 0; i < 500 && warnings.length < killed.length; i++) await new Promise((r) => setTimeout(r, 20));
        expect(warnings[0]).toMatch(/^LEPTON_DATABASE_CONNECTION_LOST: registry database connection lost: terminating connection due to administrator command/);
        expect((await registry.list()).map((r) => r.version)).toEqual(['5.0.0']);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('refuses a server it cannot reach with the URL (password hidden) in the message', async () => {
      const url = `postgres://lepton:s3cret@127.0.0.1:${cluster.port}/no_such_database`;
      const err = await openDatabase({ dataDir: tempDataDir(), databaseUrl: url }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('DATABASE_UNAVAILABLE');
      expect(err?.message).toContain('postgres://lepton:***@127.0.0.1');
      expect(err?.message).toContain('no_such_database');
      expect(err?.message).not.toContain('s3cret');
      const viaQuery = await openDatabase({ dataDir: tempDataDir(), databaseUrl: `postgres://127.0.0.1:${cluster.port}/no_such_database?user=lepton&password=s3cret` }).catch((e: Error) => e);
      expect(viaQuery).toMatchObject({ code: 'DATABASE_UNAVAILABLE', message: expect.stringContaining('?user=lepton&password=***') });
      expect((viaQuery as Error).message).not.toContain('s3cret');
    });
  });

  describe('model registry', () => {
    it('registers the bundled model once, across reopenings, with its real digest and size', async () => {
      const url = await freshUrl();
      const dir = tempDataDir();
      const first = await open(url, dir);
      const a = await first.registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: { file: MODEL_FILE } }]);
      expect(a.created).toBe(true);
      expect(a.record.variants).toEqual([{ id: 'fp32', precision: 'fp32', target: 'any', sha256: MODEL_SHA, size: 2327524 }]);
      expect(a.record.manifest).toEqual(SILERO_VAD_V5_MANIFEST);
      expect(a.record.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const second = await open(url, dir);
      const again = await second.registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: { file: MODEL_FILE } }]);
      expect(again).toEqual({ record: a.record, created: false });
      expect(await second.registry.list()).toEqual([a.record]);
    });

    it('answers the latest version, names what exists, and adds variants with session options', async () => {
      const { registry } = await open(await freshUrl());
      const bytes = new Uint8Array([1, 2, 3]);
      await registry.register({ ...SILERO_VAD_V5_MANIFEST, version: '5.0.0' }, [{ precision: 'fp32', source: bytes }]);
      await registry.register({ ...SILERO_VAD_V5_MANIFEST, version: '5.1.0' }, [{ precision: 'int8', target: 'edge', source: bytes }]);
      expect((await registry.get(MODEL)).version).toBe('5.1.0');
      expect((await registry.get(MODEL, '5.0.0')).variants[0]!.precision).toBe('fp32');
      await expect(registry.get('whisper')).rejects.toMatchObject({
        code: 'MODEL_NOT_FOUND',
        message: 'model "whisper" is not registered; registered: silero-vad-v5@5.0.0, silero-vad-v5@5.1.0',
      });
      await expect(registry.resolveVariant(MODEL, { precision: 'fp32' })).rejects.toMatchObject({
        code: 'ARTIFACT_NOT_FOUND',
        message: 'model silero-vad-v5@5.1.0 has no fp32 variant for target any; variants: int8/edge',
      });
      const added = await registry.addVariant(MODEL, '5.1.0', {
        precision: 'fp32',
        target: 'web',
        opset: 17,
        sessionOptions: { graphOptimizationLevel: 'basic', intraOpNumThreads: 2 },
        source: new Uint8Array([4, 5]),
      });
      expect(added).toEqual({
        id: 'fp32-web',
        precision: 'fp32',
        target: 'web',
        sha256: createHash('sha256').update(new Uint8Array([4, 5])).digest('hex'),
        size: 2,
        opset: 17,
        sessionOptions: { graphOptimizationLevel: 'basic', intraOpNumThreads: 2 },
      });
      // The same variant id again is left as it is (onConflict do nothing).
      expect(await registry.addVariant(MODEL, '5.1.0', { precision: 'fp32', target: 'web', source: new Uint8Array([9]) })).toEqual(added);
      expect((await registry.resolveVariant(MODEL, { precision: 'fp32', target: 'web' })).variant.id).toBe('fp32-web');
    });

    it('reads a size past 2^32 back as the same number (bigint column)', async () => {
      const { registry, db } = await open(await freshUrl());
      await registry.register(SILERO_VAD_V5_MANIFEST, []);
      const sha = 'f'.repeat(64);
      const size = 6_442_450_944; // 6 GiB
      await db.insertInto('artifacts').values({ sha256: sha, size, created_at: new Date().toISOString() }).execute();
      await db.insertInto('variants').values({ model_id: MODEL, version: '5.0.0', variant_id: 'fp16', precision: 'fp16', target: 'any', sha256: sha, size, opset: null }).execute();
      expect((await registry.get(MODEL)).variants).toEqual([{ id: 'fp16', precision: 'fp16', target: 'any', sha256: sha, size }]);
    });

    it('lists model ids and variants in the same order as SQLite (byte order, not the locale)', async () => {
      const ids = ['vad_b', 'vad-b', 'vad.b', 'vad0', 'vadb', 'vad', 'v.a'];
      const listed: Record<string, string[]> = {};
      for (const [name, url] of [
        ['sqlite', undefined],
        ['postgres', await freshUrl()],
      ] as const) {
        const { registry } = await open(url);
        for (const id of ids) {
          await registry.register({ ...SILERO_VAD_V5_MANIFEST, id }, [
            { precision: 'int8', target: 'edge', source: new Uint8Array([1]) },
            { precision: 'fp32', source: new Uint8Array([2]) },
            { precision: 'int8', source: new Uint8Array([3]) },
          ]);
        }
        listed[name] = (await registry.list()).map((r) => `${r.id}:${r.variants.map((v) => v.id).join(',')}`);
        await expect(registry.get('nope')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
      }
      expect(listed['postgres']).toEqual(listed['sqlite']);
      expect(listed['sqlite']!.map((l) => l.split(':')[0])).toEqual([...ids].sort());
      expect(listed['sqlite']![0]).toBe('v.a:fp32,int8,int8-edge');
    });

    it('registering the same version from many connections at once stores it once', async () => {
      const url = await freshUrl();
      const servers = [await open(url), await open(url), await open(url), await open(url)];
      const results = await Promise.all(servers.map((s) => s.registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: MODEL_BYTES }])));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => JSON.stringify(r.record))).size).toBe(1);
      expect(await cluster.query('select model_id, version from model_versions', [], url)).toEqual([{ model_id: MODEL, version: '5.0.0' }]);
    });

    it('registering versions of a new model from many connections at once keeps every version, in distinct order', async () => {
      const url = await freshUrl();
      const servers = [await open(url), await open(url), await open(url), await open(url)];
      const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];
      const results = await Promise.all(servers.map((s, i) => s.registry.register({ ...SILERO_VAD_V5_MANIFEST, id: 'raced', version: versions[i] }, [])));
      expect(results.map((r) => [r.record.version, r.created])).toEqual(versions.map((v) => [v, true]));
      const seqs = await cluster.query<{ seq: number }>("select seq from model_versions where model_id = 'raced' order by seq", [], url);
      expect(seqs.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    });
  });

  describe('variant jobs', () => {
    it('queues, runs and finishes jobs with exact progress and the report', async () => {
      const url = await freshUrl();
      const { registry, jobs } = await open(url);
      await registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: MODEL_BYTES }]);
      const web = await jobs.create(MODEL, '5.0.0', 'web', 'int8-auto');
      const edge = await jobs.create(MODEL, '5.0.0', 'edge', 'int8-weight');
      expect(web).toMatchObject({ model: MODEL, version: '5.0.0', target: 'web', status: 'queued', progress: 0, error: null, report: null, startedAt: null });
      expect((await jobs.nextQueued())?.id).toBe(web.id);
      await jobs.start(web.id);
      await jobs.progress(web.id, 1 / 3, 'quantizing', 'int8-dynamic');
      expect(await jobs.get(web.id)).toMatchObject({ status: 'running', progress: 1 / 3, stage: 'quantizing', pass: 'int8-dynamic' });
      expect((await jobs.nextQueued())?.id).toBe(edge.id);
      await jobs.start(edge.id);
      expect(await jobs.requeueRunning()).toBe(2);
      await jobs.start(web.id);
      const report = { pass: 'int8-dynamic', metric: 'max-abs', maxAbsDiff: 0.0123456789, sizeBytes: 123456 } as unknown as Parameters<JobStore['succeed']>[1]['report'];
      await jobs.succeed(web.id, { pass: 'int8-dynamic', variantId: 'int8-web', precision: 'int8', report });
      await jobs.fail(edge.id, { code: 'VARIANT_BUILD_FAILED', message: 'boom' });
      const all = await jobs.forVersion(MODEL, '5.0.0');
      expect(all.map((j) => [j.id, j.status, j.progress])).toEqual([
        [web.id, 'succeeded', 1],
        [edge.id, 'failed', 0],
      ]);
      expect(all[0]!.report).toEqual(report);
      expect(all[1]!.error).toEqual({ code: 'VARIANT_BUILD_FAILED', message: 'boom' });
      expect(all[0]!.finishedAt).toMatch(/Z$/);
      expect(await jobs.nextQueued()).toBeUndefined();
      // Jobs created at once keep distinct queue places.
      await Promise.all(Array.from({ length: 8 }, (_, i) => jobs.create(MODEL, '5.0.0', i % 2 ? 'web' : 'edge', 'fp16')));
      expect((await cluster.query<{ seq: number }>('select seq from variant_jobs order by seq', [], url)).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    });
  });

  describe('devices, API keys, deployments and telemetry', () => {
    it('enrollment tokens enroll one device each; the env token many; expired ones none', async () => {
      const { devices, db } = await open(await freshUrl());
      const token = await devices.issueOneTimeToken();
      expect(token).toMatch(/^lpt_[\w-]{32}$/);
      expect(await devices.issueOneTimeToken()).toBeUndefined();
      const enrolled = await devices.enroll({ token: token!, name: 'pi', capabilities: { arch: 'arm64', memoryMb: 2048 } });
      await expect(devices.enroll({ token: token!, name: 'pi2' })).rejects.toMatchObject({ code: 'ENROLLMENT_INVALID', message: expect.stringContaining('already used') });
      await expect(devices.enroll({ token: 'guess', name: 'x' })).rejects.toMatchObject({ code: 'ENROLLMENT_INVALID' });
      const rows = await db.selectFrom('devices').selectAll().execute();
      expect(rows.map((r) => [r.id, r.name, r.credential_hash, JSON.parse(r.capabilities)])).toEqual([[enrolled.deviceId, 'pi', sha256Hex(enrolled.credential), { arch: 'arm64', memoryMb: 2048 }]]);
      expect(await devices.authenticate(`Bearer ${enrolled.credential}`)).toEqual({ id: enrolled.deviceId, name: 'pi', capabilities: { arch: 'arm64', memoryMb: 2048 } });
      expect((await db.selectFrom('devices').select('last_seen_at').executeTakeFirstOrThrow()).last_seen_at).toMatch(/Z$/);
      await expect(devices.authenticate('Bearer nope')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await devices.issueOneTimeToken()).toMatch(/^lpt_/);

      const grouped = await devices.createToken(600, 'lab');
      const inLab = await devices.enroll({ token: grouped.token, name: 'lab-1' });
      expect((await devices.authenticate(`Bearer ${inLab.credential}`)).group).toBe('lab');
      const expired = await devices.createToken(-1);
      await expect(devices.enroll({ token: expired.token, name: 'late' })).rejects.toMatchObject({ code: 'ENROLLMENT_EXPIRED' });

      await devices.addEnvToken('lepton-dev-enroll-token');
      await devices.addEnvToken('lepton-dev-enroll-token');
      const a = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'a' });
      const b = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'b' });
      expect(a.deviceId).not.toBe(b.deviceId);
      expect(Number((await db.selectFrom('enrollment_tokens').select((eb) => eb.fn.countAll().as('n')).where('kind', '=', 'env').executeTakeFirstOrThrow()).n)).toBe(1);
    });

    it('one one-time token used by many enrollments at once enrolls exactly one device', async () => {
      const url = await freshUrl();
      const servers = [await open(url), await open(url), await open(url), await open(url)];
      const token = await servers[0]!.devices.issueOneTimeToken();
      const outcomes = await Promise.allSettled(servers.map((s, i) => s.devices.enroll({ token: token!, name: `racer-${i}` })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes.filter((x) => x.status === 'rejected')) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'ENROLLMENT_INVALID' });
      expect(await cluster.query('select name from devices', [], url)).toHaveLength(1);
    });

    it('API keys: create, list, revoke once, env key replaced in place, authenticate by role', async () => {
      const { keys, devices } = await open(await freshUrl());
      const boot = await keys.bootstrapAdminKey();
      expect(boot).toMatch(/^lpk_/);
      expect(await keys.bootstrapAdminKey()).toBeUndefined();
      const c = await keys.create('ci', 'client');
      await keys.addEnvAdminKey('first-env-admin-key');
      await keys.addEnvAdminKey('second-env-admin-key');
      const list = await keys.list();
      expect(list.map((k) => [k.name, k.role])).toEqual([
        ['bootstrap admin', 'admin'],
        ['ci', 'client'],
        ['LEPTON_ADMIN_KEY', 'admin'],
      ]);
      expect(await keys.authenticate('Bearer second-env-admin-key')).toEqual({ role: 'admin', id: 'key_env' });
      await expect(keys.authenticate('Bearer first-env-admin-key')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect(await keys.authenticate(`Bearer ${c.key}`)).toEqual({ role: 'client', id: c.id });
      expect(await keys.revoke(c.id)).toEqual({ id: c.id, revoked: true });
      expect(await keys.revoke(c.id)).toEqual({ id: c.id, revoked: false });
      await expect(keys.authenticate(`Bearer ${c.key}`)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('was revoked at') });
      await devices.addEnvToken('lepton-dev-enroll-token');
      const d = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'dev' });
      expect(await keys.authenticate(`Bearer ${d.credential}`)).toEqual({ role: 'device', id: d.deviceId });
      await expect(devices.authenticate(`Bearer ${boot}`)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('deployments: default once, newest wins, created at once get distinct order, halt on failures', async () => {
      const url = await freshUrl();
      const { registry, deployments, devices } = await open(url);
      await registry.register(SILERO_VAD_V5_MANIFEST, [{ precision: 'fp32', source: MODEL_BYTES }]);
      await registry.register({ ...SILERO_VAD_V5_MANIFEST, version: '5.1.0' }, [{ precision: 'fp32', source: MODEL_BYTES }]);
      await deployments.ensureDefault(MODEL, '5.0.0');
      await deployments.ensureDefault(MODEL, '5.0.0');
      expect((await deployments.list()).map((d) => [d.id, d.version, d.target])).toEqual([[`dep_default_${MODEL}`, '5.0.0', { all: true }]]);
      await devices.addEnvToken('lepton-dev-enroll-token');
      const caps = { precisions: ['fp32' as const], memoryMb: 16000 };
      const devs: { id: string; group_name: string | null }[] = [];
      for (let i = 0; i < 3; i++) {
        const e = await devices.enroll({ token: 'lepton-dev-enroll-token', name: `d${i}`, capabilities: caps });
        devs.push({ id: e.deviceId, group_name: null });
      }
      const dep = await deployments.create({ model: MODEL, version: '5.1.0', target: { all: true }, maxFailureRate: 0.3, errorRateThreshold: 0.123456789 });
      expect(dep).toMatchObject({ version: '5.1.0', percent: 100, maxFailureRate: 0.3, errorRateThreshold: 0.123456789, status: 'active', counts: {} });
      const assigned = await deployments.assignmentsFor(devs[0]!, caps);
      expect(assigned.map((a) => [a.deploymentId, a.version, a.variantId, a.errorRateThreshold])).toEqual([[dep.id, '5.1.0', 'fp32', 0.123456789]]);
      expect(assigned[0]!.signed.payload).toMatchObject({ sha256: MODEL_SHA, size: MODEL_BYTES.length });
      expect(canonicalJson(assigned[0]!.signed.payload)).toContain(`"size":${MODEL_BYTES.length}`);
      for (const d of devs.slice(1)) await deployments.assignmentsFor(d, caps);
      await deployments.report(devs[0]!, [{ deploymentId: dep.id, model: MODEL, version: '5.1.0', state: 'healthy' }]);
      await deployments.report(devs[1]!, [{ deploymentId: dep.id, model: MODEL, version: '5.1.0', state: 'failed', message: 'load failed' }]);
      const halted = await deployments.get(dep.id);
      expect(halted).toMatchObject({ status: 'halted', haltedReason: '1 of 3 devices failed (33% > 30%)', counts: { pending: 1, healthy: 1, failed: 1 } });
      expect((await deployments.devicesOf(dep.id)).find((x) => x.deviceId === devs[1]!.id)).toMatchObject({ state: 'failed', message: 'load failed' });
      expect((await deployments.assignmentsFor(devs[2]!, caps)).map((a) => a.version)).toEqual(['5.0.0']);

      // Created at once from three connections' pools: each gets its own place in the creation order.
      const others = [deployments, (await open(url)).deployments, (await open(url)).deployments];
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => others[i % 3]!.create({ model: MODEL, version: '5.0.0', target: { group: 'none' } })));
      expect(many.map((d) => d.status)).toEqual(Array(12).fill('active'));
      const seqs = (await cluster.query<{ seq: number }>('select seq from deployments order by seq', [], url)).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      expect((await deployments.list()).map((d) => d.id).slice(-2)).toEqual([dep.id, `dep_default_${MODEL}`]);
    });

    it('telemetry: the same event id is stored once, also when deliveries race; latencies come back exact', async () => {
      const url = await freshUrl();
      const { devices, telemetry, db } = await open(url);
      const second = await open(url);
      await devices.addEnvToken('lepton-dev-enroll-token');
      const a = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'tel-a' });
      const b = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'tel-b' });
      const events = Array.from({ length: 5 }, (_, i) => ({
        id: `evt-0000-${i}`,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        kind: 'infer' as const,
        ok: i !== 4,
        latencyMs: i + 0.123456789,
      }));
      expect(await telemetry.ingest(a.deviceId, events)).toEqual({ stored: 5, duplicates: 0 });
      expect(await telemetry.ingest(a.deviceId, events.slice(2))).toEqual({ stored: 0, duplicates: 3 });
      expect(await telemetry.ingest(b.deviceId, events.slice(0, 1))).toEqual({ stored: 1, duplicates: 0 });
      const summary = await telemetry.summary(a.deviceId);
      expect(summary).toEqual({ latencies: events.map((e) => e.latencyMs), errorRate: 0.2, events: 5, eventsByKind: { infer: 5 } });
      // Two connections deliver the same new batch at the same moment: each event lands once.
      const batch = Array.from({ length: 20 }, (_, i) => ({ id: `evt-race-${String(i).padStart(2, '0')}`, at: new Date(Date.UTC(2026, 0, 2, 0, 0, i)).toISOString(), kind: 'refused' as const, ok: false, code: 'E' }));
      const [r1, r2] = await Promise.all([telemetry.ingest(b.deviceId, batch), second.telemetry.ingest(b.deviceId, batch)]);
      expect(r1.stored + r2.stored).toBe(20);
      expect(r1.duplicates + r2.duplicates).toBe(20);
      expect(await telemetry.events(b.deviceId, 'refused')).toEqual(batch.map((e) => ({ id: e.id, kind: 'refused', code: 'E' })));
      expect(Number((await db.selectFrom('telemetry').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(26);
    });
  });

  describe('the whole server on PostgreSQL', () => {
    let server: StartedServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('serves models, fleet and telemetry over HTTP from PostgreSQL, and a restart on the same database duplicates nothing', async () => {
      const url = await freshUrl();
      const dir = tempDataDir();
      const env = { LEPTON_DATABASE_URL: url, LEPTON_ADMIN_KEY: 'pg-test-admin-key' };
      server = await startTestServer(dir, env);
      expect(server.adminKey).toBeUndefined();
      const admin = client(server.url, 'pg-test-admin-key');
      const models = await admin.models.list.query();
      expect(models.map((m) => [m.id, m.version, m.variants.map((v) => [v.id, v.sha256, v.size])])).toEqual([[MODEL, '5.0.0', [['fp32', MODEL_SHA, 2327524]]]]);
      const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 600, group: 'lab' });
      const enrolled = await client(server.url).devices.enroll.mutate({ token, name: 'pg-device', capabilities: { precisions: ['fp32'], memoryMb: 8000, arch: 'x64' } });
      expect((await trpcFailure(client(server.url).devices.enroll.mutate({ token, name: 'again' }))).code).toBe('ENROLLMENT_INVALID');
      const device = client(server.url, enrolled.credential);
      const { assignments } = await device.fleet.sync.mutate({});
      expect(assignments.map((a) => [a.deploymentId, a.model, a.version, a.signed.payload.sha256])).toEqual([[`dep_default_${MODEL}`, MODEL, '5.0.0', MODEL_SHA]]);
      const art = await fetch(`${server.url}/api/v1/models/${MODEL}/artifact?version=5.0.0`, { headers: { authorization: `Bearer ${enrolled.credential}`, range: 'bytes=1000-' } });
      expect(art.status).toBe(206);
      expect(Buffer.from(await art.arrayBuffer()).equals(MODEL_BYTES.subarray(1000))).toBe(true);
      const events = [
        { id: 'evt-http-0001', at: '2026-01-01T00:00:00.000Z', kind: 'infer' as const, ok: true, latencyMs: 3.25 },
        { id: 'evt-http-0002', at: '2026-01-01T00:00:01.000Z', kind: 'infer' as const, ok: false, latencyMs: 7.5 },
      ];
      expect(await device.fleet.telemetry.mutate({ events })).toEqual({ stored: 2, duplicates: 0 });
      expect(await device.fleet.telemetry.mutate({ events })).toEqual({ stored: 0, duplicates: 2 });
      const listed = (await admin.devices.list.query()).find((d) => d.id === enrolled.deviceId)!;
      expect(listed).toMatchObject({ name: 'pg-device', group: 'lab', latencies: [3.25, 7.5], errorRate: 0.5, events: 2 });
      const k = await admin.apiKeys.create.mutate({ name: 'temp', role: 'client' });
      expect(await admin.apiKeys.revoke.mutate({ id: k.id })).toEqual({ id: k.id, revoked: true });
      await server.close();
      server = undefined;

      server = await startTestServer(dir, env);
      const again = client(server.url, 'pg-test-admin-key');
      expect((await again.models.list.query()).map((m) => `${m.id}@${m.version}`)).toEqual([`${MODEL}@5.0.0`]);
      expect((await again.deployments.list.query()).map((d) => d.id)).toEqual([`dep_default_${MODEL}`]);
      expect((await again.devices.list.query()).map((d) => [d.name, d.events])).toEqual([['pg-device', 2]]);
      expect((await again.apiKeys.list.query()).map((x) => [x.name, x.revokedAt !== undefined])).toEqual([
        ['LEPTON_ADMIN_KEY', false],
        ['temp', true],
      ]);
      expect((await client(server.url, enrolled.credential).fleet.sync.mutate({})).assignments).toHaveLength(1);
      expect(server.enrollmentToken).toBeUndefined(); // the first start's token is still outstanding
    });
  });
});
