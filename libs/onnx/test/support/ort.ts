import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { CreateRunner } from '../../src';

export { ort, ortWeb };
ortWeb.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
ortWeb.env.logLevel = 'error';

export const createRunner: CreateRunner = async (bytes) => (await ort.InferenceSession.create(bytes)) as never;
export const createWebRunner: CreateRunner = async (bytes) => (await ortWeb.InferenceSession.create(bytes)) as never;

export type Feeds = Record<string, ort.Tensor>;

export async function run(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(feeds);
  const r: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) r[k] = v.data as Float32Array;
  await s.release();
  return r;
}

export function tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

const PYTHON = '/usr/bin/python3';
export const hasChecker = existsSync(PYTHON) && (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * onnx.checker.check_model (full_check, with shape inference) on each model, in one Python process. Returns the
 * error text per model name (empty when it passed).
 */
export function checkModels(models: Record<string, Uint8Array>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-onnx-check-'));
  const paths: Record<string, string> = {};
  Object.entries(models).forEach(([name, bytes], i) => {
    paths[name] = join(dir, `m${i}.onnx`);
    writeFileSync(paths[name]!, bytes);
  });
  const script = `
import json, sys, onnx
out = {}
for name, path in json.loads(sys.argv[1]).items():
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        out[name] = ''
    except Exception as e:
        out[name] = str(e)[:500]
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, JSON.stringify(paths)], { encoding: 'utf8' })) as Record<string, string>;
}
