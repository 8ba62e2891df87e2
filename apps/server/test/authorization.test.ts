import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import { appRouter, type AppRouter } from '@lepton/api';
import { bundledModelPath } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';

/**
 * The authorization matrix: every procedure x every caller (no credential, client key, admin key, device
 * credential, and a credential the server does not know). Each row lists who may call it; every other cell must
 * fail with UNAUTHORIZED (no or bad credential) or FORBIDDEN (wrong role), and every allowed cell must succeed.
 */
const ENROLL = 'authz-enroll-token';
const ADMIN = 'authz-admin-key-0001';
type Caller = 'none' | 'client' | 'admin' | 'device' | 'bogus';
const CALLERS: Caller[] = ['none', 'client', 'admin', 'device', 'bogus'];
type Client = ReturnType<typeof makeClient>;

function makeClient(url: string, key?: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })],
  });
}

let server: StartedServer;
const clients = {} as Record<Caller, Client>;
let seq = 0;
const frame = Buffer.from(new Float32Array(576).buffer).toString('base64');

const MATRIX: { name: string; allowed: Caller[]; call: (c: Client) => Promise<unknown> }[] = [
  { name: 'models.list', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.models.list.query() },
  { name: 'models.get', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.models.get.query({ id: 'silero-vad-v5' }) },
  {
    name: 'infer',
    allowed: ['none', 'client', 'admin', 'device'],
    call: (c) =>
      c.infer.mutate({
        model: 'silero-vad-v5',
        inputs: [
          { name: 'input', dtype: 'float32', shape: [1, 576], data: frame },
          { name: 'state', dtype: 'float32', shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
        ],
      }),
  },
  // Open like infer: it runs a registered model on the server's platforms and returns the comparison.
  { name: 'parity.run', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.parity.run.mutate({ model: 'silero-vad-v5', wav: silence(), platforms: ['server'] }) },
  // An uploaded file is registered on the server: a write, so it needs an API key.
  {
    name: 'parity.run (modelBytes)',
    allowed: ['client', 'admin'],
    call: (c) =>
      c.parity.run.mutate({
        model: 'uploaded-silero.onnx',
        modelBytes: silero(),
        inputs: [
          { name: 'input', dtype: 'float32', shape: [1, 576], data: frame },
          { name: 'state', dtype: 'float32', shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
          { name: 'sr', dtype: 'int64', shape: [], data: Buffer.from(new BigInt64Array([16000n]).buffer).toString('base64') },
        ],
        platforms: ['server'],
      }),
  },
  { name: 'vad.detect', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.vad.detect.mutate({ model: 'silero-vad-v5', wav: silence() }) },
  {
    name: 'devices.enroll',
    allowed: ['none', 'client', 'admin', 'device'],
    call: (c) => c.devices.enroll.mutate({ token: ENROLL, name: `matrix-${seq++}` }),
  },
  { name: 'devices.createToken', allowed: ['admin'], call: (c) => c.devices.createToken.mutate({ ttlSeconds: 60 }) },
  { name: 'devices.list', allowed: ['admin'], call: (c) => c.devices.list.query() },
  { name: 'apiKeys.create', allowed: ['admin'], call: (c) => c.apiKeys.create.mutate({ name: 'k', role: 'client' }) },
  { name: 'apiKeys.list', allowed: ['admin'], call: (c) => c.apiKeys.list.query() },
  { name: 'apiKeys.revoke', allowed: ['admin'], call: (c) => c.apiKeys.revoke.mutate({ id: 'key_does_not_exist' }) },
  {
    name: 'deployments.registerModel',
    allowed: ['admin'],
    call: async (c) => c.deployments.registerModel.mutate({ manifest: (await c.models.get.query({ id: 'silero-vad-v5' })).manifest, variants: [{ precision: 'fp32', data: silero() }] }),
  },
  {
    name: 'deployments.create',
    allowed: ['admin'],
    // A group no device is in: targets nobody (device ids that are not enrolled are DEVICE_NOT_FOUND).
    call: (c) => c.deployments.create.mutate({ model: 'silero-vad-v5', version: '5.0.0', target: { group: 'nobody' } }),
  },
  { name: 'deployments.list', allowed: ['admin'], call: (c) => c.deployments.list.query() },
  { name: 'deployments.status', allowed: ['admin'], call: (c) => c.deployments.status.query({ id: 'dep_default_silero-vad-v5' }) },
  { name: 'variants.jobs', allowed: ['client', 'admin'], call: (c) => c.variants.jobs.query({ model: 'silero-vad-v5' }) },
  { name: 'variants.report', allowed: ['client', 'admin'], call: (c) => c.variants.report.query({ model: 'silero-vad-v5', variant: 'fp32' }) },
  { name: 'variants.choose', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.variants.choose.query({ model: 'silero-vad-v5', target: 'edge' }) },
  { name: 'fleet.publicKey', allowed: ['none', 'client', 'admin', 'device'], call: (c) => c.fleet.publicKey.query() },
  { name: 'fleet.sync', allowed: ['device'], call: (c) => c.fleet.sync.mutate({}) },
  {
    name: 'fleet.report',
    allowed: ['device'],
    call: (c) => c.fleet.report.mutate({ reports: [{ deploymentId: 'dep_default_silero-vad-v5', model: 'silero-vad-v5', version: '5.0.0', state: 'installed' }] }),
  },
  {
    name: 'fleet.telemetry',
    allowed: ['device'],
    call: (c) => c.fleet.telemetry.mutate({ events: [{ id: `matrix-event-${seq++}`, at: new Date().toISOString(), kind: 'health', ok: true }] }),
  },
];

let sileroB64 = '';
function silero(): string {
  sileroB64 ||= readFileSync(bundledModelPath('silero-vad-v5')).toString('base64');
  return sileroB64;
}
function silence(): string {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + 3200, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(3200, 40);
  return Buffer.concat([h, Buffer.alloc(3200)]).toString('base64');
}

beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_ENROLL_TOKEN: ENROLL, LEPTON_ADMIN_KEY: ADMIN });
  clients.none = makeClient(server.url);
  keys.admin = ADMIN;
  keys.bogus = 'lpk_not_a_key_of_this_server';
  keys.client = (await makeClient(server.url, ADMIN).apiKeys.create.mutate({ name: 'matrix client', role: 'client' })).key;
  keys.device = (await clients.none.devices.enroll.mutate({ token: ENROLL, name: 'matrix device' })).credential;
  for (const c of ['admin', 'bogus', 'client', 'device'] as const) clients[c] = makeClient(server.url, keys[c]);
});
afterAll(() => server?.close());

/** Plain-HTTP routes that carry model bytes, by the same callers. */
const HTTP_MATRIX: { name: string; allowed: Caller[]; path: string }[] = [
  // Devices download what is deployed to them; the credential picks the device's variant.
  { name: 'GET /api/v1/models/:id/artifact', allowed: ['device'], path: '/api/v1/models/silero-vad-v5/artifact' },
  // The web app's own download: every visitor of the page may run the model, so no credential.
  { name: 'GET /api/v1/web/models/:id/artifact', allowed: ['none', 'client', 'admin', 'device', 'bogus'], path: '/api/v1/web/models/silero-vad-v5/artifact' },
];
const keys = {} as Record<Caller, string | undefined>;

describe('authorization matrix', () => {
  it('has a row for every procedure of the router, and none for procedures that do not exist', () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    // A row name is the procedure, optionally followed by " (the kind of call)" for calls with their own rule.
    expect([...new Set(MATRIX.map((r) => r.name.split(' ')[0]!))].sort()).toEqual(procedures);
  });

  for (const row of MATRIX) {
    for (const caller of CALLERS) {
      const allowed = row.allowed.includes(caller);
      it(`${row.name} x ${caller}: ${allowed ? 'allowed' : 'refused'}`, async () => {
        if (allowed) {
          await expect(row.call(clients[caller])).resolves.toBeDefined();
        } else {
          const failure = await trpcFailure(row.call(clients[caller]));
          expect(failure.code).toBe(caller === 'none' || caller === 'bogus' ? 'UNAUTHORIZED' : 'FORBIDDEN');
          expect(failure.httpStatus).toBe(caller === 'none' || caller === 'bogus' ? 401 : 403);
        }
      });
    }
  }
});

describe('authorization matrix, artifact downloads over HTTP', () => {
  for (const row of HTTP_MATRIX) {
    for (const caller of CALLERS) {
      const allowed = row.allowed.includes(caller);
      it(`${row.name} x ${caller}: ${allowed ? 'allowed' : 'refused'}`, async () => {
        const key = keys[caller];
        const res = await fetch(`${server.url}${row.path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
        const body = Buffer.from(await res.arrayBuffer());
        if (allowed) {
          expect(res.status).toBe(200);
          expect(body.length).toBe(Number(res.headers.get('content-length')));
          expect(res.headers.get('x-lepton-sha256')).toMatch(/^[0-9a-f]{64}$/);
        } else {
          const expected = caller === 'none' || caller === 'bogus' ? 401 : 403;
          expect({ status: res.status, code: (JSON.parse(body.toString('utf8')) as { code?: string }).code }).toEqual({
            status: expected,
            code: expected === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN',
          });
        }
      });
    }
  }
});
