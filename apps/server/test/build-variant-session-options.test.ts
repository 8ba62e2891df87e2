import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelManifestSchema } from '@lepton/contracts';
import { SESSION_OPTIONS_KEY, decodeModel, recordedSessionOptions } from '@lepton/onnx';
import { bytes, f32, graph, model, node, randomFloats } from '@lepton/onnx/testing';
import { buildVariant } from '../src/variants/build-variant';

/**
 * The variant builder decides session options with @lepton/onnx requiredSessionOptions (the function the CLI
 * uses) and records them both on the variant and in the artifact's lepton.session_options metadata, so a
 * downloaded artifact run by `lepton eval` / `lepton infer --on local` gets them too.
 */
/** Y = X @ B (288 weights) and Z = Gather(E, I) (800 weights): MatMul holds under half, so the edge pass is int8-weight. */
function matmulGather(): Uint8Array {
  const init = [f32('B', [24, 12], randomFloats(288, 9, 0.5)), f32('E', [100, 8], randomFloats(800, 3, 0.5))];
  const nodes = [node('MatMul', ['X', 'B'], ['Y']), node('Gather', ['E', 'I'], ['Z'])];
  return bytes(model(graph(nodes, [['X', 1, [2, 24]], ['I', 7, [3]]], [['Y', 1, [2, 12]], ['Z', 1, [3, 8]]], init)));
}

describe('buildVariant records the session options on the variant and in the artifact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-build-variant-'));
  const fp32 = matmulGather();
  const file = join(dir, 'matmul-gather.onnx');
  writeFileSync(file, fp32);
  const manifest = ModelManifestSchema.parse({
    id: 'matmul-gather',
    name: 'MatMul 24x12 + Gather 100x8',
    version: '1',
    task: 'generic',
    inputs: [
      { name: 'X', dtype: 'float32', shape: [2, 24] },
      { name: 'I', dtype: 'int64', shape: [3] },
    ],
    outputs: [
      { name: 'Y', dtype: 'float32', shape: [2, 12] },
      { name: 'Z', dtype: 'float32', shape: [3, 8] },
    ],
  });
  const req = { modelPath: file, sha256: createHash('sha256').update(fp32).digest('hex'), manifest, audioDir: dir };

  it('edge (int8-weight here) records basic on the variant and in the artifact; web (fp16) records nothing', async () => {
    const edge = await buildVariant({ ...req, pass: 'int8-auto' }, () => undefined);
    expect(edge.pass).toBe('int8-weight');
    expect(edge.sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    expect(recordedSessionOptions(edge.bytes)).toEqual({ graphOptimizationLevel: 'basic' });
    const web = await buildVariant({ ...req, pass: 'fp16' }, () => undefined);
    expect(web.sessionOptions).toBeUndefined();
    expect(decodeModel(web.bytes).metadataProps.filter((p) => p.key === SESSION_OPTIONS_KEY)).toEqual([]);
  });
});
