import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelRecord } from '@lepton/contracts';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath } from '@lepton/node-platform';
import { ModelCache } from './model-cache';

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

async function* chunks(bytes: Uint8Array, size = 65_536): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

const dirs: string[] = [];
function cache(): ModelCache {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-cache-'));
  dirs.push(dir);
  return new ModelCache(dir);
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ModelCache', () => {
  it('stores a verified artifact under its digest and loads it back byte for byte', async () => {
    const c = cache();
    const stored = await c.store(record('1', v1), { id: 'fp32', sha256: sha(v1) }, chunks(v1));
    expect(stored.entry.sha256).toBe(sha(v1));
    expect(stored.entry.size).toBe(v1.byteLength);
    expect(sha(readFileSync(c.artifactPath('silero-vad-v5', sha(v1))))).toBe(sha(v1));
    const loaded = await c.load('silero-vad-v5');
    expect(Buffer.compare(loaded.bytes, v1)).toBe(0);
    expect(loaded.entry.record.version).toBe('1');
    expect((await c.records()).map((r) => r.version)).toEqual(['1']);
  });

  it('discards a download whose digest does not match and leaves the cache as it was', async () => {
    const c = cache();
    await c.store(record('1', v1), { id: 'fp32', sha256: sha(v1) }, chunks(v1));
    const err = await c.store(record('2', v2), { id: 'fp32', sha256: sha(v1).replace(/^./, (x) => (x === '0' ? '1' : '0')) }, chunks(v2)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARTIFACT_DIGEST_MISMATCH' });
    expect((err as Error).message).toContain(sha(v2));
    expect(readdirSync(c.modelDir('silero-vad-v5')).sort()).toEqual([`${sha(v1)}.onnx`, 'state.json'].sort());
    expect((await c.load('silero-vad-v5')).entry.version).toBe('1');
  });

  it('keeps the previous version on update and drops the one before it', async () => {
    const c = cache();
    const v3 = v1.slice();
    v3[0]! ^= 0x01;
    await c.store(record('1', v1), { id: 'fp32', sha256: sha(v1) }, chunks(v1));
    await c.store(record('2', v2), { id: 'fp32', sha256: sha(v2) }, chunks(v2));
    let state = await c.state('silero-vad-v5');
    expect([state?.current.version, state?.previous?.version]).toEqual(['2', '1']);
    await c.store(record('3', v3), { id: 'fp32', sha256: sha(v3) }, chunks(v3));
    state = await c.state('silero-vad-v5');
    expect([state?.current.version, state?.previous?.version]).toEqual(['3', '2']);
    expect(existsSync(c.artifactPath('silero-vad-v5', sha(v1)))).toBe(false);
  });

  it('deletes a corrupt current artifact and falls back to the previous version', async () => {
    const c = cache();
    await c.store(record('1', v1), { id: 'fp32', sha256: sha(v1) }, chunks(v1));
    await c.store(record('2', v2), { id: 'fp32', sha256: sha(v2) }, chunks(v2));
    const path = c.artifactPath('silero-vad-v5', sha(v2));
    writeFileSync(path, v1.subarray(0, 100));
    const loaded = await c.load('silero-vad-v5');
    expect(loaded.entry.version).toBe('1');
    expect(Buffer.compare(loaded.bytes, v1)).toBe(0);
    expect(existsSync(path)).toBe(false);
  });

  it('reports ARTIFACT_DIGEST_MISMATCH naming both digests when nothing verifies', async () => {
    const c = cache();
    await c.store(record('1', v1), { id: 'fp32', sha256: sha(v1) }, chunks(v1));
    writeFileSync(c.artifactPath('silero-vad-v5', sha(v1)), v2);
    const err = await c.load('silero-vad-v5').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARTIFACT_DIGEST_MISMATCH', details: { expected: sha(v1), actual: sha(v2) } });
  });

  it('says ARTIFACT_NOT_FOUND for a model it never cached', async () => {
    const err = await cache().load('nope').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' });
    expect((err as Error).message).toContain('nope');
  });
});
