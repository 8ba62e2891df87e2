import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
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
    call: (c) => c.deployments.create.mutate({ model: 'silero-vad-v5', version: '5.0.0', target: { deviceIds: ['dev_nobody'] } }),
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
  clients.admin = makeClient(server.url, ADMIN);
  clients.bogus = makeClient(server.url, 'lpk_not_a_key_of_this_server');
  clients.client = makeClient(server.url, (await clients.admin.apiKeys.create.mutate({ name: 'matrix client', role: 'client' })).key);
  clients.device = makeClient(server.url, (await clients.none.devices.enroll.mutate({ token: ENROLL, name: 'matrix device' })).credential);
});
afterAll(() => server?.close());

describe('authorization matrix', () => {
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
