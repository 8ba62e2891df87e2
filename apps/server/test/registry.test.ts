import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath } from '@lepton/node-platform';
import { ArtifactStore, DeviceRegistry, ModelRegistry, openDatabase, sha256Hex, type OpenedDatabase } from '../src';
import { tempDataDir } from './helpers';

const opened: OpenedDatabase[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.db.destroy();
});

async function open(dir: string) {
  const o = await openDatabase({ dataDir: dir, databaseUrl: undefined });
  opened.push(o);
  const artifacts = new ArtifactStore(join(dir, 'artifacts'));
  return { ...o, artifacts, registry: new ModelRegistry(o.db, artifacts), devices: new DeviceRegistry(o.db) };
}

describe('ArtifactStore', () => {
  it('stores content under sha256/ab/cdef..., once, and verifies it on read', async () => {
    const dir = tempDataDir();
    const store = new ArtifactStore(join(dir, 'artifacts'));
    const bytes = new TextEncoder().encode('lepton artifact');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const a = await store.put(bytes);
    expect(a).toEqual({ sha256: sha, size: bytes.length, path: join(dir, 'artifacts', 'sha256', sha.slice(0, 2), sha.slice(2)) });
    expect((await store.put(bytes)).path).toBe(a.path);
    expect(readdirSync(join(dir, 'artifacts', 'sha256', sha.slice(0, 2)))).toEqual([sha.slice(2)]);
    expect(readdirSync(join(dir, 'artifacts', 'tmp'))).toEqual([]);
    expect(await store.read(sha)).toEqual(bytes);
    writeFileSync(a.path, 'tampered');
    await expect(store.read(sha)).rejects.toMatchObject({ code: 'ARTIFACT_DIGEST_MISMATCH' });
    await expect(store.read('0'.repeat(64))).rejects.toMatchObject({ code: 'ARTIFACT_NOT_FOUND' });
  });

  it('streams a file in and gets the same digest as hashing it whole', async () => {
    const store = new ArtifactStore(join(tempDataDir(), 'artifacts'));
    const file = bundledModelPath('silero-vad-v5');
    const whole = readFileSync(file);
    const a = await store.put({ file });
    expect(a.sha256).toBe(createHash('sha256').update(whole).digest('hex'));
    expect(a.size).toBe(whole.length);
  });
});

describe('ModelRegistry on SQLite', () => {
  it('registers a version once, across reopenings of the same file', async () => {
    const dir = tempDataDir();
    const first = await open(dir);
    const variant = { precision: 'fp32' as const, source: { file: bundledModelPath('silero-vad-v5') } };
    const a = await first.registry.register(SILERO_VAD_V5_MANIFEST, [variant]);
    expect(a.created).toBe(true);
    expect(a.record.variants).toEqual([
      { id: 'fp32', precision: 'fp32', target: 'any', sha256: createHash('sha256').update(readFileSync(variant.source.file)).digest('hex'), size: 2327524 },
    ]);
    await first.db.destroy();
    opened.length = 0;
    const second = await open(dir);
    expect((await second.registry.register(SILERO_VAD_V5_MANIFEST, [variant])).created).toBe(false);
    const list = await second.registry.list();
    expect(list.map((r) => `${r.id}@${r.version}`)).toEqual(['silero-vad-v5@5.0.0']);
    expect(list[0]!.manifest).toEqual(SILERO_VAD_V5_MANIFEST);
  });

  it('answers the latest version by default and names what exists when asked for something else', async () => {
    const { registry } = await open(tempDataDir());
    const bytes = new Uint8Array([1, 2, 3]);
    await registry.register({ ...SILERO_VAD_V5_MANIFEST, version: '5.0.0' }, [{ precision: 'fp32', source: bytes }]);
    await registry.register({ ...SILERO_VAD_V5_MANIFEST, version: '5.1.0' }, [{ precision: 'int8', target: 'edge', source: bytes }]);
    expect((await registry.get('silero-vad-v5')).version).toBe('5.1.0');
    expect((await registry.get('silero-vad-v5', '5.0.0')).variants[0]!.precision).toBe('fp32');
    await expect(registry.get('whisper')).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: 'model "whisper" is not registered; registered: silero-vad-v5@5.0.0, silero-vad-v5@5.1.0',
    });
    await expect(registry.resolveVariant('silero-vad-v5', { precision: 'fp32' })).rejects.toMatchObject({
      code: 'ARTIFACT_NOT_FOUND',
      message: 'model silero-vad-v5@5.1.0 has no fp32 variant for target any; variants: int8/edge',
    });
    await expect(registry.register({ ...SILERO_VAD_V5_MANIFEST, id: 'Bad Id' }, [])).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });
});

describe('DeviceRegistry', () => {
  it('issues a one-time token at first start that enrolls exactly one device', async () => {
    const { devices, db } = await open(tempDataDir());
    const token = await devices.issueOneTimeToken();
    expect(token).toMatch(/^lpt_[\w-]{32}$/);
    expect(await devices.issueOneTimeToken()).toBeUndefined();
    const enrolled = await devices.enroll({ token: token!, name: 'pi', capabilities: { arch: 'arm64' } });
    expect(enrolled.deviceId).toMatch(/^dev_/);
    await expect(devices.enroll({ token: token!, name: 'pi2' })).rejects.toMatchObject({ code: 'ENROLLMENT_INVALID', message: expect.stringContaining('already used') });
    await expect(devices.enroll({ token: 'guess', name: 'x' })).rejects.toMatchObject({ code: 'ENROLLMENT_INVALID' });
    // Only hashes are stored.
    const rows = await db.selectFrom('devices').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.credential_hash).toBe(sha256Hex(enrolled.credential));
    expect(JSON.stringify(await db.selectFrom('enrollment_tokens').selectAll().execute())).not.toContain(token);
    expect((await devices.authenticate(`Bearer ${enrolled.credential}`)).name).toBe('pi');
    await expect(devices.authenticate('Bearer nope')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(devices.authenticate(undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // Used up: the next start issues a new one.
    expect(await devices.issueOneTimeToken()).toMatch(/^lpt_/);
  });

  it('accepts LEPTON_ENROLL_TOKEN for any number of devices', async () => {
    const { devices } = await open(tempDataDir());
    await devices.addEnvToken('lepton-dev-enroll-token');
    await devices.addEnvToken('lepton-dev-enroll-token');
    const a = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'a' });
    const b = await devices.enroll({ token: 'lepton-dev-enroll-token', name: 'b' });
    expect(a.deviceId).not.toBe(b.deviceId);
    expect(a.credential).not.toBe(b.credential);
  });
});
