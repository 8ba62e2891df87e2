import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelRecord } from '@lepton/contracts';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath } from '@lepton/node-platform';
import { ModelCache } from './model-cache';
import { SignatureVerifier } from './signature';
import { TestSigner } from '../test/signing';

// Real bytes: the bundled Silero VAD v5 model, and a second "version" that differs by its last byte.
const v1 = new Uint8Array(readFileSync(bundledModelPath('silero-vad-v5')));
const v2 = v1.slice();
v2[v2.length - 1]! ^= 0x01;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function record(version: string, bytes: Uint8Array): ModelRecord {
  return {
    id: 'silero-vad-v5',
    name: 'Silero VAD',
    version,
    task: 'vad',
    manifest: { ...SILERO_VAD_V5_MANIFEST, version },
    variants: [{ id: 'fp32', precision: 'fp32', target: 'any', sha256: sha(bytes), size: bytes.byteLength }],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

const signer = new TestSigner();
const ID = 'silero-vad-v5';

/** What a finished download leaves: the artifact at its content address, then commit. */
async function put(c: ModelCache, version: string, bytes: Uint8Array) {
  const r = record(version, bytes);
  mkdirSync(c.modelDir(ID), { recursive: true });
  writeFileSync(c.artifactPath(ID, sha(bytes)), bytes);
  return c.commit(r, signer.signRecord(r), `dep-${version}`);
}

const dirs: string[] = [];
function cache(): ModelCache {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-cache-'));
  dirs.push(dir);
  return new ModelCache(dir, new SignatureVerifier(signer.pinned));
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ModelCache', () => {
  it('commits a verified artifact and loads it back byte for byte', async () => {
    const c = cache();
    const entry = await put(c, '1', v1);
    expect(entry).toMatchObject({ sha256: sha(v1), size: v1.byteLength, version: '1', deploymentId: 'dep-1' });
    const loaded = await c.load(ID);
    expect(Buffer.compare(loaded.bytes, v1)).toBe(0);
    expect((await c.records()).map((r) => r.version)).toEqual(['1']);
  });

  it('keeps the previous version on update, drops the one before it, and rolls back to it', async () => {
    const c = cache();
    const v3 = v1.slice();
    v3[0]! ^= 0x01;
    await put(c, '1', v1);
    await put(c, '2', v2);
    expect([(await c.state(ID))?.current.version, (await c.state(ID))?.previous?.version]).toEqual(['2', '1']);
    await put(c, '3', v3);
    expect([(await c.state(ID))?.current.version, (await c.state(ID))?.previous?.version]).toEqual(['3', '2']);
    expect(existsSync(c.artifactPath(ID, sha(v1)))).toBe(false);
    expect((await c.rollback(ID))?.version).toBe('2');
    expect((await c.state(ID))?.previous).toBeUndefined();
    expect(existsSync(c.artifactPath(ID, sha(v3)))).toBe(false);
    expect(Buffer.compare((await c.load(ID)).bytes, v2)).toBe(0);
  });

  it('deletes a corrupt current artifact and falls back to the previous version', async () => {
    const c = cache();
    await put(c, '1', v1);
    await put(c, '2', v2);
    const path = c.artifactPath(ID, sha(v2));
    writeFileSync(path, v1.subarray(0, 100));
    const loaded = await c.load(ID);
    expect(loaded.entry.version).toBe('1');
    expect(existsSync(path)).toBe(false);
  });

  it('reports ARTIFACT_DIGEST_MISMATCH naming both digests when nothing verifies', async () => {
    const c = cache();
    await put(c, '1', v1);
    writeFileSync(c.artifactPath(ID, sha(v1)), v2);
    const err = await c.load(ID).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARTIFACT_DIGEST_MISMATCH', details: { expected: sha(v1), actual: sha(v2) } });
  });

  it('refuses a cache entry whose manifest or signed payload was edited on disk, or that another key signed', async () => {
    const c = cache();
    await put(c, '1', v1);
    const file = join(c.modelDir(ID), 'state.json');
    const original = readFileSync(file, 'utf8');
    const state = JSON.parse(original);
    state.current.record.manifest.postprocess = [];
    writeFileSync(file, JSON.stringify(state));
    expect(await c.load(ID).catch((e: unknown) => e)).toMatchObject({ code: 'SIGNATURE_INVALID' });
    const edited = JSON.parse(original);
    edited.current.signed.payload.size += 1;
    writeFileSync(file, JSON.stringify(edited));
    expect(await c.load(ID).catch((e: unknown) => e)).toMatchObject({ code: 'SIGNATURE_INVALID' });
    const foreign = JSON.parse(original);
    foreign.current.signed = new TestSigner().signRecord(record('1', v1), signer.keyId);
    writeFileSync(file, JSON.stringify(foreign));
    expect(await c.load(ID).catch((e: unknown) => e)).toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('evicts previous versions first, then models not kept, never a kept current version', async () => {
    const c = cache();
    await put(c, '1', v1);
    await put(c, '2', v2);
    expect(await c.evict(v1.byteLength * 2, new Set([ID]))).toEqual([]);
    expect(await c.evict(v1.byteLength, new Set([ID]))).toEqual([c.artifactPath(ID, sha(v1))]);
    expect((await c.state(ID))?.previous).toBeUndefined();
    expect(await c.evict(1, new Set([ID]))).toEqual([]);
    expect(await c.evict(1, new Set())).toEqual([c.artifactPath(ID, sha(v2))]);
    expect(await c.state(ID)).toBeUndefined();
  });

  it('says ARTIFACT_NOT_FOUND for a model it never cached', async () => {
    const err = await cache().load('nope').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' });
    expect((err as Error).message).toContain('nope');
  });
});
