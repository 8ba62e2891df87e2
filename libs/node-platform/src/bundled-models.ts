import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Models that ship inside npm packages, so a fresh clone always has them (nothing is fetched at run time).
 * Silero VAD v5: @ricky0123/vad-web@0.0.31 dist/silero_vad_v5.onnx (MIT).
 */
export const BUNDLED_MODELS = {
  'silero-vad-v5': { packageName: '@ricky0123/vad-web', file: 'dist/silero_vad_v5.onnx', license: 'MIT' },
} as const;

export type BundledModelId = keyof typeof BUNDLED_MODELS;

export function bundledModelPath(id: BundledModelId): string {
  const { packageName, file } = BUNDLED_MODELS[id];
  const root = dirname(require.resolve(`${packageName}/package.json`));
  return join(root, file);
}
