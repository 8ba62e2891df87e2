import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';

/**
 * Fleet input that names nothing over real HTTP: a deployment to device ids that are not enrolled (it was created
 * and targeted nobody), a group target no device can be in, and an enrollment token for an empty group.
 */
const ADMIN = 'fleet-targets-admin-key';
const MODEL = 'silero-vad-v5';
let server: StartedServer;
let admin: ReturnType<typeof client>;

function client(url: string, key?: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });
}

beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_ADMIN_KEY: ADMIN });
  admin = client(server.url, ADMIN);
});
afterAll(() => server?.close());

const deploymentIds = async () => (await admin.deployments.list.query()).map((d) => d.id).sort();

describe('deployments.create target', () => {
  it('refuses device ids that are not enrolled with 404 DEVICE_NOT_FOUND naming them, and writes nothing', async () => {
    const { token } = await admin.devices.createToken.mutate({ ttlSeconds: 600 });
    const { deviceId } = await client(server.url).devices.enroll.mutate({ token, name: 'known' });
    const before = await deploymentIds();
    const one = await trpcFailure(admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { deviceIds: ['nope'] } }));
    expect(one).toEqual({
      httpStatus: 404,
      code: 'DEVICE_NOT_FOUND',
      message: 'target.deviceIds: device "nope" is not enrolled on this server; see devices.list for the enrolled devices',
    });
    const some = await trpcFailure(admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { deviceIds: [deviceId, 'gone-1', 'gone-2', 'gone-1'] } }));
    expect(some).toEqual({
      httpStatus: 404,
      code: 'DEVICE_NOT_FOUND',
      message: 'target.deviceIds: 2 of 3 devices are not enrolled on this server: "gone-1", "gone-2"; see devices.list for the enrolled devices',
    });
    expect(await deploymentIds()).toEqual(before);
    // Enrolled ids alone still deploy.
    const ok = await admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { deviceIds: [deviceId] } });
    expect(ok.target).toEqual({ deviceIds: [deviceId] });
  });

  it('names at most 10 unknown ids and counts the rest', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `ghost-${String(i).padStart(2, '0')}`);
    const failure = await trpcFailure(admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { deviceIds: ids } }));
    expect(failure.code).toBe('DEVICE_NOT_FOUND');
    expect(failure.message).toBe(
      `target.deviceIds: 25 of 25 devices are not enrolled on this server: ${ids.slice(0, 10).map((i) => JSON.stringify(i)).join(', ')} and 15 more; see devices.list for the enrolled devices`,
    );
  });

  it('refuses a group no device can be in (empty, blank, not a group name) with VALIDATION_FAILED on target.group', async () => {
    const before = await deploymentIds();
    for (const group of ['', ' ', '   ', 'Lab', '-lab']) {
      const failure = await trpcFailure(admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { group } }));
      expect(failure).toEqual({
        httpStatus: 400,
        code: 'VALIDATION_FAILED',
        message: `target.group: ${JSON.stringify(group)} is not a group name; expected 1 to 64 of a-z 0-9 . _ - starting with a letter or digit`,
      });
    }
    expect(await deploymentIds()).toEqual(before);
  });

  it('takes a group that no device is in yet (devices may enroll into it later)', async () => {
    const dep = await admin.deployments.create.mutate({ model: MODEL, version: '5.0.0', target: { group: 'later' } });
    expect(dep).toMatchObject({ target: { group: 'later' }, status: 'active' });
  });
});

describe('devices.createToken group', () => {
  it('refuses an empty or blank group with VALIDATION_FAILED naming the field and the value', async () => {
    for (const group of ['', ' ', '\t']) {
      const failure = await trpcFailure(admin.devices.createToken.mutate({ ttlSeconds: 600, group }));
      expect(failure).toEqual({
        httpStatus: 400,
        code: 'VALIDATION_FAILED',
        message: `group: ${JSON.stringify(group)} is not a group name; expected 1 to 64 of a-z 0-9 . _ - starting with a letter or digit`,
      });
    }
    const long = await trpcFailure(admin.devices.createToken.mutate({ ttlSeconds: 600, group: 'g'.repeat(65) }));
    expect(long.message).toBe('group: a group name has at most 64 characters; this one has 65');
  });

  it('keeps the group optional', async () => {
    const none = await admin.devices.createToken.mutate({ ttlSeconds: 600 });
    expect(none.group).toBeUndefined();
    expect((await admin.devices.createToken.mutate({ ttlSeconds: 600, group: 'lab.v2_a-1' })).group).toBe('lab.v2_a-1');
  });
});
