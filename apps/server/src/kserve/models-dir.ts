import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelRecord } from '@lepton/contracts';
import { withSymbolicBatch } from '@lepton/node-platform';
import type { ModelRegistry } from '../registry/model-registry';

/**
 * Register every `NAME.manifest.json` of LEPTON_MODELS_DIR (each a model manifest, see libs/contracts
 * manifest.ts) with its model file: `NAME.onnx` beside it, or the manifest's extra `"file"` key (relative to the
 * folder). An extra `"symbolicBatch": "batch"` key rewrites a batch-1 export (mnist-8) so its requests can be
 * batched (withSymbolicBatch). Registration is idempotent per id@version, like the bundled models.
 */
export async function registerModelsDir(registry: ModelRegistry, dir: string): Promise<ModelRecord[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.endsWith('.manifest.json')).sort();
  } catch (err) {
    throw new LeptonError('FILE_NOT_FOUND', `LEPTON_MODELS_DIR ${dir} cannot be read: ${(err as Error).message}`, { dir });
  }
  const out: ModelRecord[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let raw: { file?: unknown; symbolicBatch?: unknown };
    try {
      raw = JSON.parse(await readFile(path, 'utf8')) as typeof raw;
    } catch (err) {
      throw new LeptonError('MANIFEST_INVALID', `${path} is not valid JSON: ${(err as Error).message}`, { path });
    }
    const file = typeof raw.file === 'string' ? basename(raw.file) : `${name.slice(0, -'.manifest.json'.length)}.onnx`;
    let model: Uint8Array;
    try {
      model = new Uint8Array(await readFile(join(dir, file)));
    } catch {
      throw new LeptonError('FILE_NOT_FOUND', `${path} needs model file ${join(dir, file)}, which cannot be read`, { path, file });
    }
    if (typeof raw.symbolicBatch === 'string') model = withSymbolicBatch(model, raw.symbolicBatch);
    const { record } = await registry.register(raw, [{ precision: 'fp32', target: 'any', source: model }]);
    out.push(record);
  }
  return out;
}
