import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { canonicalJson, type ModelRecord } from '@lepton/contracts';
import { bundledModelPath } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { bucketOf } from '../src/deployments/deployment-service';
import { chooseVariant } from '../src/deployments/variant-choice';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';

const ADMIN = 'fleet-test-admin-key';
const MODEL = 'silero-vad-v5';
const bytes = readFileSync(bundledModelPath(MODEL));
let server: StartedServer;
let admin: ReturnType<typeof client>;

function client(url: string, key?: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });
}

async function enrollDevice(name: string, group?: string) {
  const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 600, ...(group ? { group } : {}) });
  const enrolled = await client(server.url).devices.enroll.mutate({ token, name, capabilities: { precisions: ['fp32', 'int8'], memoryMb: 16000, arch: 'x64' } });
  return { ...enrolled, api: client(server.url, enrolled.credential) };
}

/** Register silero under another version (same bytes: a version is a manifest + variants). */
async function registerVersion(version: string, data: Buffer = bytes) {
  const manifest = { ...(await admin.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, version };
  return admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: data.toString('base64') }] });
}

beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_ADMIN_KEY: ADMIN });
  admin = client(server.url, ADMIN);
});
afterAll(() => server?.close());

describe('identity', () => {
  it('prints a bootstrap admin key only when no admin key exists', async () => {
    const fresh = await startTestServer(tempDataDir());
    try {
      expect(fresh.adminKey).toMatch(/^lpk_/);
      expect((await client(fresh.url, fresh.adminKey).apiKeys.list.query()).map((k) => k.role)).toEqual(['admin']);
    } finally {
      await fresh.close();
    }
    expect(server.adminKey).toBeUndefined(); // LEPTON_ADMIN_KEY was given
  });

  it('enrollment tokens enroll one device, then never again', async () => {
    const { token, expiresAt } = await admin.devices.createToken.mutate({ ttlSeconds: 600, group: 'lab' });
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const ok = await client(server.url).devices.enroll.mutate({ token, name: 'once' });
    expect(ok.serverKey?.keyId).toBe(server.signer.keyId);
    const again = await trpcFailure(client(server.url).devices.enroll.mutate({ token, name: 'twice' }));
    expect(again.code).toBe('ENROLLMENT_INVALID');
    expect((await admin.devices.list.query()).find((d) => d.id === ok.deviceId)?.group).toBe('lab');
  });

  it('expired tokens are refused', async () => {
    const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const failure = await trpcFailure(client(server.url).devices.enroll.mutate({ token, name: 'late' }));
    expect(failure.code).toBe('ENROLLMENT_EXPIRED');
  });

  it('a revoked API key stops working', async () => {
    const k = await admin.apiKeys.create.mutate({ name: 'temp', role: 'admin' });
    expect(await client(server.url, k.key).apiKeys.list.query()).not.toHaveLength(0);
    expect(await admin.apiKeys.revoke.mutate({ id: k.id })).toEqual({ id: k.id, revoked: true });
    expect((await trpcFailure(client(server.url, k.key).apiKeys.list.query())).code).toBe('UNAUTHORIZED');
  });
});

describe('signed assignments and artifacts', () => {
  it('signs sha256, size, precision, model id/version and the manifest digest with the pinned key', async () => {
    const d = await enrollDevice('signer-check');
    const { assignments } = await d.api.fleet.sync.mutate({});
    const a = assignments.find((x) => x.model === MODEL)!;
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(a.signed.payload).toMatchObject({ modelId: MODEL, version: '5.0.0', precision: 'fp32', sha256: sha, size: bytes.length, keyId: d.serverKey!.keyId });
    const key = createPublicKey({ key: Buffer.from(d.serverKey!.publicKey, 'base64'), format: 'der', type: 'spki' });
    const payload = Buffer.from(canonicalJson(a.signed.payload));
    expect(verify(null, payload, key, Buffer.from(a.signed.signature, 'base64'))).toBe(true);
    const tampered = Buffer.from(canonicalJson({ ...a.signed.payload, size: bytes.length + 1 }));
    expect(verify(null, tampered, key, Buffer.from(a.signed.signature, 'base64'))).toBe(false);
  });

  it('serves byte ranges for resumed downloads and refuses versions not deployed to the device', async () => {
    const d = await enrollDevice('range-check');
    const url = `${server.url}/api/v1/models/${MODEL}/artifact?version=5.0.0`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${d.credential}`, range: 'bytes=1000-' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 1000-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(1000))).toBe(true);
    // What `curl -r 0-1023` sends, and a start past the end (416 with the size, so the client can ask again).
    const first = await fetch(url, { headers: { authorization: `Bearer ${d.credential}`, range: 'bytes=0-1023' } });
    expect([first.status, first.headers.get('content-range'), first.headers.get('content-length')]).toEqual([206, `bytes 0-1023/${bytes.length}`, '1024']);
    expect(Buffer.from(await first.arrayBuffer()).equals(bytes.subarray(0, 1024))).toBe(true);
    const past = await fetch(url, { headers: { authorization: `Bearer ${d.credential}`, range: `bytes=${bytes.length}-` } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, `bytes */${bytes.length}`]);
    expect(((await past.json()) as { code: string }).code).toBe('RANGE_NOT_SATISFIABLE');
    await registerVersion('5.9.0-hidden');
    const hidden = await fetch(`${server.url}/api/v1/models/${MODEL}/artifact?version=5.9.0-hidden`, { headers: { authorization: `Bearer ${d.credential}` } });
    expect(hidden.status).toBe(403);
    expect(((await hidden.json()) as { code: string }).code).toBe('FORBIDDEN');
  });
});

describe('deployments', () => {
  it('rolls a version out to a group, then halts it and sends devices back when too many fail', async () => {
    const devs = [await enrollDevice('g1', 'canary'), await enrollDevice('g2', 'canary'), await enrollDevice('g3', 'canary')];
    const other = await enrollDevice('outside', 'prod');
    await registerVersion('5.1.0');
    const dep = await admin.deployments.create.mutate({ model: MODEL, version: '5.1.0', target: { group: 'canary' }, maxFailureRate: 0.3 });
    for (const d of devs) expect((await d.api.fleet.sync.mutate({})).assignments.find((a) => a.model === MODEL)?.version).toBe('5.1.0');
    expect((await other.api.fleet.sync.mutate({})).assignments.find((a) => a.model === MODEL)?.version).toBe('5.0.0');
    // Another group's device may not report on it.
    expect((await trpcFailure(other.api.fleet.report.mutate({ reports: [{ deploymentId: dep.id, model: MODEL, version: '5.1.0', state: 'installed' }] }))).code).toBe('FORBIDDEN');

    await devs[0]!.api.fleet.report.mutate({ reports: [{ deploymentId: dep.id, model: MODEL, version: '5.1.0', state: 'healthy' }] });
    await devs[1]!.api.fleet.report.mutate({ reports: [{ deploymentId: dep.id, model: MODEL, version: '5.1.0', state: 'rolled-back', message: 'load failed' }] });
    // 1 of 3 failed: 33% > 30%, the rollout halts and everyone goes back.
    const status = await admin.deployments.status.query({ id: dep.id });
    expect(status.status).toBe('halted');
    expect(status.haltedReason).toContain('1 of 3');
    expect(status.counts).toMatchObject({ healthy: 1, 'rolled-back': 1, pending: 1 });
    for (const d of devs) expect((await d.api.fleet.sync.mutate({})).assignments.find((a) => a.model === MODEL)?.version).toBe('5.0.0');
  });

  it('stages by percentage: exactly the devices whose stable bucket is under the percentage get it', async () => {
    const devs = [];
    for (let i = 0; i < 8; i++) devs.push(await enrollDevice(`stage-${i}`, 'staged'));
    await registerVersion('5.2.0');
    const dep = await admin.deployments.create.mutate({ model: MODEL, version: '5.2.0', target: { group: 'staged' }, percent: 50 });
    for (const d of devs) {
      const version = (await d.api.fleet.sync.mutate({})).assignments.find((a) => a.model === MODEL)?.version;
      expect(version).toBe(bucketOf(dep.id, d.deviceId) < 50 ? '5.2.0' : '5.0.0');
    }
    const inRollout = devs.filter((d) => bucketOf(dep.id, d.deviceId) < 50).map((d) => d.deviceId).sort();
    expect((await admin.deployments.status.query({ id: dep.id })).devices.map((x) => x.deviceId).sort()).toEqual(inRollout);
  });

  it('deploys the first version of a newly registered model to every device, not later versions', async () => {
    const d = await enrollDevice('new-model');
    const manifest = { ...(await admin.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, id: 'vad-copy', version: '1.0.0' };
    await admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: bytes.toString('base64') }] });
    await admin.deployments.registerModel.mutate({ manifest: { ...manifest, version: '1.1.0' }, variants: [{ precision: 'fp32', data: bytes.toString('base64') }] });
    const { assignments } = await d.api.fleet.sync.mutate({});
    expect(assignments.find((a) => a.model === 'vad-copy')).toMatchObject({ deploymentId: 'dep_default_vad-copy', version: '1.0.0', reason: 'fp32: no 8-bit variant, fp32 fallback' });
  });

  it('refuses a deployment of a version that does not exist', async () => {
    const failure = await trpcFailure(admin.deployments.create.mutate({ model: MODEL, version: '9.9.9', target: { all: true } }));
    expect(failure.code).toBe('MODEL_NOT_FOUND');
  });
});

describe('telemetry', () => {
  it('stores each event id once per device however often it arrives, and only under the sender', async () => {
    const [a, b] = [await enrollDevice('tel-a'), await enrollDevice('tel-b')];
    const events = Array.from({ length: 5 }, (_, i) => ({ id: `evt-0000-${i}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), kind: 'infer' as const, ok: i !== 4, latencyMs: i + 1 }));
    expect(await a.api.fleet.telemetry.mutate({ events })).toEqual({ stored: 5, duplicates: 0 });
    expect(await a.api.fleet.telemetry.mutate({ events: events.slice(2) })).toEqual({ stored: 0, duplicates: 3 });
    expect(await b.api.fleet.telemetry.mutate({ events: events.slice(0, 1) })).toEqual({ stored: 1, duplicates: 0 });
    const list = await admin.devices.list.query();
    const sa = list.find((d) => d.id === a.deviceId)!;
    expect(sa.eventsByKind).toEqual({ infer: 5 });
    expect(sa.latencies).toEqual([1, 2, 3, 4, 5]);
    expect(sa.errorRate).toBeCloseTo(0.2, 10);
    expect(list.find((d) => d.id === b.deviceId)!.events).toBe(1);
  });
});

describe('variant choice', () => {
  const variant = (id: string, precision: 'fp32' | 'int8', target: 'any' | 'edge' | 'server' = 'any') => ({ id, precision, target, sha256: 'a'.repeat(64), size: 1 });
  const record = (variants: ReturnType<typeof variant>[]) => ({ id: 'm', version: '1', variants }) as unknown as ModelRecord;

  it('gives small devices int8, others fp32, and says why', () => {
    const r = record([variant('fp32', 'fp32'), variant('int8', 'int8'), variant('int8-server', 'int8', 'server')]);
    expect(chooseVariant(r, { memoryMb: 1024, precisions: ['fp32', 'int8'] }, 'auto')).toEqual({ variant: r.variants[1], reason: 'int8: 1024 MB memory is under 4096 MB' });
    expect(chooseVariant(r, { memoryMb: 16000, precisions: ['fp32', 'int8'] }, 'auto').reason).toBe('fp32: device has room for full precision');
    expect(chooseVariant(r, { memoryMb: 16000, arch: 'x64', cpuFeatures: ['sse4_2'], precisions: ['fp32', 'int8'] }, 'auto').reason).toBe('int8: x86 CPU without AVX2');
    expect(chooseVariant(r, { memoryMb: 512, precisions: ['fp32'] }, 'auto').reason).toBe('fp32: device runs no 8-bit precision, fp32 fallback');
  });

  it('assigns each device the variant for its capabilities, shows it with the reason in devices.list, and skips only models a device cannot run', async () => {
    const manifest = { ...(await admin.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, id: 'choice-model', version: '1.0.0' };
    const int8Bytes = Buffer.concat([bytes, Buffer.from('int8 stand-in')]);
    await admin.deployments.registerModel.mutate({
      manifest,
      variants: [
        { precision: 'fp32', data: bytes.toString('base64') },
        { precision: 'int8', target: 'edge', data: int8Bytes.toString('base64') },
      ],
    });
    const enrollWith = async (name: string, capabilities: Record<string, unknown>) => {
      const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 600 });
      const d = await client(server.url).devices.enroll.mutate({ token, name, capabilities });
      return { ...d, api: client(server.url, d.credential) };
    };
    const small = await enrollWith('choice-small', { precisions: ['fp32', 'int8'], memoryMb: 1024, arch: 'arm64' });
    const big = await enrollWith('choice-big', { precisions: ['fp32', 'int8'], memoryMb: 16384, arch: 'x64', cpuFeatures: ['avx2'] });
    const fp16Only = await enrollWith('choice-fp16', { precisions: ['fp16'], memoryMb: 16384 });

    const pick = async (d: typeof small) => {
      const a = (await d.api.fleet.sync.mutate({})).assignments.find((x) => x.model === 'choice-model');
      return a && { variant: a.variantId, precision: a.signed.payload.precision, sha256: a.signed.payload.sha256, reason: a.reason };
    };
    expect(await pick(small)).toEqual({ variant: 'int8-edge', precision: 'int8', sha256: createHash('sha256').update(int8Bytes).digest('hex'), reason: 'int8: 1024 MB memory is under 4096 MB' });
    expect(await pick(big)).toEqual({ variant: 'fp32', precision: 'fp32', sha256: createHash('sha256').update(bytes).digest('hex'), reason: 'fp32: device has room for full precision' });
    // No fp16 variant of anything: the sync still answers, with neither model instead of failing as a whole.
    expect((await fp16Only.api.fleet.sync.mutate({})).assignments).toEqual([]);

    const list = await admin.devices.list.query();
    const assigned = (id: string) => list.find((d) => d.id === id)!.assigned!['choice-model'];
    expect(assigned(small.deviceId)).toEqual({ version: '1.0.0', variant: 'int8-edge', precision: 'int8', reason: 'int8: 1024 MB memory is under 4096 MB' });
    expect(assigned(big.deviceId)).toEqual({ version: '1.0.0', variant: 'fp32', precision: 'fp32', reason: 'fp32: device has room for full precision' });
    expect(assigned(fp16Only.deviceId)).toEqual({
      version: '1.0.0',
      reason: 'ARTIFACT_NOT_FOUND: model choice-model@1.0.0 has no variant this device runs (it supports fp16); variants: fp32 (fp32/any), int8-edge (int8/edge)',
    });
    // The small device downloads exactly the bytes its signed payload names.
    const res = await fetch(`${server.url}/api/v1/models/choice-model/artifact?variant=int8-edge`, { headers: { authorization: `Bearer ${small.credential}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(int8Bytes)).toBe(true);
  });

  it('falls back to fp32 when no int8 exists, prefers edge builds, and names what exists on failure', () => {
    const r = record([variant('fp32', 'fp32'), variant('fp32-edge', 'fp32', 'edge')]);
    expect(chooseVariant(r, { memoryMb: 512 }, 'auto')).toEqual({ variant: r.variants[1], reason: 'fp32: no 8-bit variant, fp32 fallback' });
    expect(() => chooseVariant(r, {}, 'int8')).toThrow(/no int8 variant for devices; variants: fp32 \(fp32\/any\), fp32-edge \(fp32\/edge\)/);
  });
});
