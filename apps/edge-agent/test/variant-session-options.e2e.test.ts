import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, decodeWireTensor, encodeWireTensor, type ModelManifestInput, type SignedVariant } from '@lepton/contracts';
import { createTensor } from '@lepton/tensor-core';
import { bytes, f32, graph, i64, model, node, randomFloats as floats } from '@lepton/onnx/testing';
import { ort } from '@lepton/node-platform';
import { SignatureVerifier } from '../src';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { admin, eventually, trpc } from './fleet-helpers';

/**
 * Per-variant session options end to end, with real processes: a server that builds variants registers a
 * Conv-free model whose int8-weight build leaves DequantizeLinear feeding MatMul, so the build records
 * graphOptimizationLevel 'basic'. An agent reporting 1 GB gets int8-edge; the options travel inside the signed
 * payload, sit in its cache verified, and its answer is onnxruntime-node's at 'basic' bit for bit (at the
 * manifest's 'all' onnxruntime-node fuses the pair and answers ~5e-3 apart, so the comparison can fail).
 */
const TOKEN = 'edge-variant-options-token';
const ID = 'gather-matmul-e2e';
let tmp = '';
let server: Proc | undefined;
let agent: Proc | undefined;

/**
 * Y = (X + Gather(E [32,24], [3, 17])) @ W [24,12]. The embedding holds most of the float weights (MatMul's share
 * 0.27, under the edge profile's 0.5), so the edge build is int8-weight, not int8-dynamic, and its W is a
 * DequantizeLinear feeding MatMul.
 */
function gatherMatMul(): Uint8Array {
  const nodes = [node('Gather', ['E', 'idx'], ['G']), node('Add', ['X', 'G'], ['A']), node('MatMul', ['A', 'W'], ['Y'])];
  const init = [f32('E', [32, 24], floats(768, 7, 0.2)), i64('idx', [3, 17]), f32('W', [24, 12], floats(288, 9, 0.5))];
  return bytes(model(graph(nodes, [['X', 1, [2, 24]]], [['Y', 1, [2, 12]]], init)));
}

const MANIFEST: ModelManifestInput = {
  id: ID,
  name: 'Gather + MatMul 24x12',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'X', dtype: 'float32', shape: [2, 24] }],
  outputs: [{ name: 'Y', dtype: 'float32', shape: [2, 12] }],
};
const X = floats(48, 900);

/** Y of a plain onnxruntime-node session (not our predictor) at `level`, the threads the manifest defaults to. */
async function ortY(model: Uint8Array, level: 'basic' | 'all'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  try {
    return (await s.run({ X: new ort.Tensor('float32', X, [2, 24]) }))['Y']!.data as Float32Array;
  } finally {
    await s.release();
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-variant-options-'));
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN, pollMs: 300, buildVariants: true });
  const a = admin(server.url);
  await a.deployments.registerModel.mutate({ manifest: MANIFEST, variants: [{ precision: 'fp32', data: Buffer.from(gatherMatMul()).toString('base64') }] });
  await a.deployments.create.mutate({ model: ID, version: '1', target: { all: true } });
  agent = await spawnAgent({
    serverUrl: server.url,
    dataDir: join(tmp, 'agent'),
    token: TOKEN,
    models: ID,
    extra: { EDGE_POLL_MS: '300', EDGE_BACKOFF_MAX_MS: '1000', EDGE_MEMORY_MB: '1024', EDGE_DEVICE_NAME: 'small' },
  });
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('variant session options from the build to the edge agent', () => {
  it('int8-edge records basic, the signed payload in the agent cache carries it, and the agent answers at basic', async () => {
    const a = admin(server!.url);
    const job = await eventually(
      'the int8-edge job to succeed',
      async () => {
        const j = (await a.variants.jobs.query({ model: ID })).find((x) => x.target === 'edge');
        if (j?.status === 'failed') throw new Error(`int8-edge job failed: ${JSON.stringify(j)}`);
        return j?.status === 'succeeded' ? j : undefined;
      },
      300,
      200,
    );
    expect(job).toMatchObject({ pass: 'int8-weight', variantId: 'int8-edge' });
    const record = await a.models.get.query({ id: ID, version: '1' });
    const int8 = record.variants.find((v) => v.id === 'int8-edge')!;
    expect(int8).toMatchObject({ precision: 'int8', target: 'edge', sessionOptions: { graphOptimizationLevel: 'basic' } });
    expect(record.variants.find((v) => v.id === 'fp32')!.sessionOptions).toBeUndefined();

    // The agent's cache: state.json switched to int8-edge, with the server's signature over the options.
    const dir = join(tmp, 'agent', 'models', ID);
    type Current = { variant: string; sha256: string; signed: SignedVariant };
    const current = () => (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { current: Current }).current;
    const cached = await eventually('the agent to cache int8-edge', async () => (current().variant === 'int8-edge' ? current() : undefined), 300, 200);
    const { payload, signature } = cached.signed;
    expect(payload).toMatchObject({ modelId: ID, version: '1', variantId: 'int8-edge', precision: 'int8', sha256: int8.sha256, size: int8.size });
    expect(payload.sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    // Verified with the key the server signs with (read from its data dir), not only the one the agent pinned.
    const serverKey = createPublicKey(createPrivateKey(readFileSync(join(tmp, 'server', 'signing', 'ed25519.pem'), 'utf8')));
    expect(verify(null, Buffer.from(canonicalJson(payload)), serverKey, Buffer.from(signature, 'base64'))).toBe(true);
    const tampered = { ...payload, sessionOptions: { graphOptimizationLevel: 'all' as const } };
    expect(verify(null, Buffer.from(canonicalJson(tampered)), serverKey, Buffer.from(signature, 'base64'))).toBe(false);
    const identity = JSON.parse(readFileSync(join(tmp, 'agent', 'identity.json'), 'utf8')) as { serverKey: { keyId: string; publicKey: string } };
    expect(() => new SignatureVerifier(identity.serverKey).verify(cached.signed, { model: ID, version: '1' })).not.toThrow();
    const artifact = new Uint8Array(readFileSync(join(dir, `${payload.sha256}.onnx`)));
    expect(createHash('sha256').update(artifact).digest('hex')).toBe(int8.sha256);

    // The agent answers locally with what onnxruntime-node computes for that artifact at basic, bit for bit.
    const r = await eventually('a local answer from the agent', async () => {
      const res = await trpc(agent!.url).infer.mutate({ model: ID, inputs: [encodeWireTensor('X', createTensor('float32', [2, 24], X))] });
      return res.answeredBy === 'edge' ? res : undefined;
    });
    const y = decodeWireTensor(r.outputs.find((o) => o.name === 'Y')!).data as Float32Array;
    const basic = await ortY(artifact, 'basic');
    const all = await ortY(artifact, 'all');
    expect(y.length).toBe(24);
    // Bit for bit: the float32 bit patterns, so even -0 against 0 would fail.
    expect(Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length))).toEqual(Array.from(new Uint32Array(basic.buffer, basic.byteOffset, basic.length)));
    let diffAll = 0;
    for (let i = 0; i < y.length; i++) diffAll = Math.max(diffAll, Math.abs(y[i]! - all[i]!));
    console.log(`edge agent int8-edge vs onnxruntime-node: basic bit for bit, all max |diff| ${diffAll.toExponential(3)}`);
    expect(diffAll).toBeGreaterThan(1e-4);
  }, 90_000);
});
