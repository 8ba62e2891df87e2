import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelManifestSchema, canonicalJson, type ModelRecord } from '@lepton/contracts';
import { ort } from '@lepton/node-platform';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { LocalModels, ModelCache, SignatureVerifier, type Upstream } from '../src';
import { MODEL, SILERO } from './fleet-helpers';
import { TestSigner } from './signing';

/**
 * The agent runs a variant with the session options the server signed into its payload (an int8 variant whose
 * DequantizeLinear feeds MatMul records graphOptimizationLevel 'basic'), merged over the manifest's; options
 * changed after signing are refused like any other change to the payload.
 */
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-options-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = createHash('sha256').update(SILERO).digest('hex');
const manifest = ModelManifestSchema.parse(SILERO_VAD_V5_MANIFEST);
const record: ModelRecord = {
  id: MODEL,
  name: manifest.name,
  version: manifest.version,
  task: manifest.task,
  manifest,
  variants: [{ id: 'int8-edge', precision: 'int8', target: 'edge', sha256, size: SILERO.length, sessionOptions: { graphOptimizationLevel: 'basic' } }],
  createdAt: new Date(0).toISOString(),
};

async function agentWithCache(dir: string, tamper: boolean) {
  const signer = new TestSigner();
  const verifier = new SignatureVerifier(signer.pinned);
  const cache = new ModelCache(dir, verifier);
  const signed = signer.signPayload({
    modelId: MODEL,
    version: record.version,
    variantId: 'int8-edge',
    precision: 'int8',
    sha256,
    size: SILERO.length,
    manifestSha256: createHash('sha256').update(canonicalJson(manifest)).digest('hex'),
    sessionOptions: { graphOptimizationLevel: 'basic' },
    keyId: signer.keyId,
  });
  if (tamper) signed.payload.sessionOptions = { graphOptimizationLevel: 'all' };
  mkdirSync(cache.modelDir(MODEL), { recursive: true });
  writeFileSync(cache.artifactPath(MODEL, sha256), SILERO);
  await cache.commit(record, signed, undefined);
  return new LocalModels({ cache, upstream: {} as Upstream, verifier, ort, log: () => undefined, event: () => undefined, healthMinCalls: 5 });
}

describe('edge agent: per-variant session options from the signed payload', () => {
  it('the loaded predictor runs with the signed options over the manifest (basic over all)', async () => {
    expect(manifest.sessionOptions.graphOptimizationLevel).toBe('all');
    const local = await agentWithCache(join(tmp, 'ok'), false);
    await local.loadCached([MODEL]);
    expect(local.problem(MODEL)).toBeUndefined();
    const loaded = local.get(MODEL)!;
    expect(loaded.predictor.manifest.sessionOptions).toEqual({ graphOptimizationLevel: 'basic', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const out = await loaded.predictor.run({
      input: { dtype: 'float32', shape: [1, 576], data: new Float32Array(576) },
      state: { dtype: 'float32', shape: [2, 1, 128], data: new Float32Array(256) },
    });
    expect(out['output']!.shape).toEqual([1, 1]);
    await loaded.predictor.release();
  });

  it('options changed after signing are refused (SIGNATURE_INVALID) and nothing is loaded', async () => {
    const local = await agentWithCache(join(tmp, 'tampered'), true);
    await local.loadCached([MODEL]);
    expect(local.get(MODEL)).toBeUndefined();
    expect(local.problem(MODEL)?.code).toBe('SIGNATURE_INVALID');
  });
});
