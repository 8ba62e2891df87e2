import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import type { OrtModule } from '../../src';

// The real model and the real onnxruntime-node, imported directly: @lepton/node-platform depends on this
// package, so its helpers cannot be used here without a dependency cycle.
const require = createRequire(import.meta.url);

export const ort = ortNode as unknown as OrtModule;

/** Silero VAD v5 from @ricky0123/vad-web@0.0.31 (MIT), as bytes. */
export function sileroBytes(): Uint8Array {
  const root = dirname(require.resolve('@ricky0123/vad-web/package.json'));
  return new Uint8Array(readFileSync(join(root, 'dist/silero_vad_v5.onnx')));
}
