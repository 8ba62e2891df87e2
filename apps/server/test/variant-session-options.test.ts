import { afterAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelManifestInput, ModelRecord } from '@lepton/contracts';
import { convertFloat16, quantizeDynamic, quantizeWeightsInt8 } from '@lepton/onnx';
import { bytes, f32, graph, intAttr, model, node, randomFloats as floats } from '@lepton/onnx/testing';
import { createPredictor, manifestForVariant, variantSessionOptions, type OrtModule } from '@lepton/runtime';
import type { StartedServer } from '../src';
import { dequantizedMatMuls, edgePass, sessionOptionsFor } from '../src/variants/profiles';
import { startTestServer, tempDataDir, trpcClient } from './helpers';

/**
 * Per-variant session options (DESIGN: "set explicitly and recorded per variant"; field case
 * graph-optimization-level). Measured on onnxruntime-node 1.30: from level 'extended' a weight DequantizeLinear
 * feeding MatMul/Gemm is fused into a kernel that quantizes the activations at run time; onnxruntime-web keeps
 * the QDQ graph. The builder records 'basic' for such artifacts and every session for the variant merges it.
 */
ortWeb.env.wasm.numThreads = 1;
ortWeb.env.logLevel = 'error';

/** Y = X [2,24] @ W [24,12] (MatMul) or Gemm with transB 0 and a bias. */
function linearModel(op: 'MatMul' | 'Gemm'): Uint8Array {
  const init = [f32('W', [24, 12], floats(288, 9, 0.5)), ...(op === 'Gemm' ? [f32('C', [12], floats(12, 8, 0.1))] : [])];
  const n = op === 'Gemm' ? node('Gemm', ['X', 'W', 'C'], ['Y'], [intAttr('transB', 0)]) : node('MatMul', ['X', 'W'], ['Y']);
  return bytes(model(graph([n], [['X', 1, [2, 24]]], [['Y', 1, [2, 12]]], init)));
}

const MANIFEST: ModelManifestInput = {
  id: 'linear-int8',
  name: 'MatMul 24x12',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'X', dtype: 'float32', shape: [2, 24] }],
  outputs: [{ name: 'Y', dtype: 'float32', shape: [2, 12] }],
};
const X = floats(48, 900);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function runY(ort: OrtModule, manifest: ModelManifestInput, model: Uint8Array): Promise<Float32Array> {
  const p = await createPredictor({ manifest, model, ort, ...(ort === (ortWeb as unknown as OrtModule) ? { executionProviders: ['wasm'] } : {}) });
  try {
    return (await p.run({ X: { dtype: 'float32', shape: [2, 24], data: X } })).Y!.data as Float32Array;
  } finally {
    await p.release();
  }
}

describe('the variant builder records graphOptimizationLevel basic where DequantizeLinear feeds MatMul/Gemm', () => {
  it('int8-weight MatMul and Gemm (transB 0) record basic; fp16 and int8-dynamic record nothing', () => {
    for (const op of ['MatMul', 'Gemm'] as const) {
      const q = quantizeWeightsInt8(linearModel(op), { perChannel: true });
      expect(dequantizedMatMuls(q.proto), op).toEqual([`main/${op}_Y`]);
      expect(sessionOptionsFor(q.proto), op).toEqual({ graphOptimizationLevel: 'basic' });
      expect(sessionOptionsFor(convertFloat16(linearModel(op), { keepIoTypes: true }).proto), `${op} fp16`).toBeUndefined();
    }
    // int8-dynamic (what the edge profile picks for this all-MatMul model) rewrites MatMul into integer kernels
    // itself and leaves no DequantizeLinear feeding one, so its options are the manifest's.
    expect(edgePass(linearModel('MatMul')).pass).toBe('int8-dynamic');
    const dyn = quantizeDynamic(linearModel('MatMul'), { perChannel: true });
    expect(dyn.proto.graph!.node.map((n) => n.opType)).not.toContain('MatMul');
    expect(sessionOptionsFor(dyn.proto)).toBeUndefined();
  });
});

describe('an int8-weight MatMul variant recorded with basic: onnxruntime-node and onnxruntime-web through our predictor', () => {
  const q = quantizeWeightsInt8(linearModel('MatMul'), { perChannel: true });
  const variant = { sessionOptions: sessionOptionsFor(q.proto) };

  it('merges the variant options over the manifest (basic over the default all, threads kept)', async () => {
    const p = await createPredictor({ manifest: MANIFEST, model: q.model, ort: ortNode as unknown as OrtModule });
    expect(variantSessionOptions(p.manifest, variant)).toEqual({ graphOptimizationLevel: 'basic', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    expect(variantSessionOptions(p.manifest)).toEqual(p.manifest.sessionOptions);
    expect(manifestForVariant(p.manifest, {})).toBe(p.manifest);
    await p.release();
  });

  it('node and web agree within 1e-7 with the recorded options; with the manifest default (all) they do not', async () => {
    const parsed = (await createPredictor({ manifest: MANIFEST, model: q.model, ort: ortNode as unknown as OrtModule })).manifest;
    const recorded = manifestForVariant(parsed, variant);
    const node = await runY(ortNode as unknown as OrtModule, recorded, q.model);
    const web = await runY(ortWeb as unknown as OrtModule, recorded, q.model);
    const diff = maxAbsDiff(node, web);
    const nodeAll = await runY(ortNode as unknown as OrtModule, parsed, q.model);
    const webAll = await runY(ortWeb as unknown as OrtModule, parsed, q.model);
    const diffAll = maxAbsDiff(nodeAll, webAll);
    const scale = Math.max(1, ...Array.from(node, Math.abs));
    console.log(
      `node vs web, int8-weight MatMul [2,24]x[24,12] (max |Y| ${scale.toFixed(3)}): recorded basic ${diff.toExponential(3)}, manifest default all ${diffAll.toExponential(3)}`,
    );
    // Relative to the output's size: the two MLAS builds sum in a different order, so one float32 ulp remains.
    expect(diff).toBeLessThanOrEqual(1e-7 * scale);
    expect(diffAll).toBeGreaterThan(1e-4);
  });
});

describe('the registry stores a variant session options, models.get serves them, and they survive a restart', () => {
  const dir = tempDataDir();
  let server: StartedServer | undefined;
  afterAll(() => server?.close());

  it('round trip through the database and tRPC, before and after a restart', async () => {
    const fp32 = linearModel('MatMul');
    const q = quantizeWeightsInt8(fp32, { perChannel: true });
    server = await startTestServer(dir);
    await server.registry.register(MANIFEST, [{ precision: 'fp32', source: fp32 }]);
    const added = await server.registry.addVariant('linear-int8', '1', { precision: 'int8', target: 'edge', source: q.model, sessionOptions: sessionOptionsFor(q.proto)! });
    expect(added.sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    const served = async (): Promise<ModelRecord> => (await trpcClient(server!.url).models.get.query({ id: 'linear-int8' })) as ModelRecord;
    const before = await served();
    expect(before.variants.map((v) => [v.id, v.sessionOptions ?? null])).toEqual([
      ['fp32', null],
      ['int8-edge', { graphOptimizationLevel: 'basic' }],
    ]);
    await server.close();
    server = await startTestServer(dir);
    const after = await served();
    expect(after.variants).toEqual(before.variants);
  });

  it('refuses options that are not session options, naming the field', async () => {
    const err = await server!.registry
      .addVariant('linear-int8', '1', { precision: 'fp16', source: linearModel('Gemm'), sessionOptions: { graphOptimizationLevel: 'max' } as never })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeptonError);
    expect((err as LeptonError).code).toBe('BAD_REQUEST');
    expect((err as LeptonError).message).toMatch(/sessionOptions\.graphOptimizationLevel/);
    expect((await server!.registry.get('linear-int8')).variants.map((v) => v.id)).toEqual(['fp32', 'int8-edge']);
  });
});
