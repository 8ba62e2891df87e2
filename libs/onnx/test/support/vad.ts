import { readFileSync } from 'node:fs';
import { decodeWav, resample } from '@lepton/tensor-core';
import type { CreateRunner } from '../../src';

/** Mono 16 kHz samples of an alsa-utils WAV. */
export function wav16k(path: string): Float32Array {
  const { format, samples } = decodeWav(new Uint8Array(readFileSync(path)));
  return format.sampleRate === 16000 ? samples : resample(samples, format.sampleRate, 16000);
}

/**
 * Silero VAD v5 streaming over `samples`: chunks of 512 new samples with 64 of context, state carried. Returns the
 * speech probability per chunk.
 */
export async function vadProbabilities(model: Uint8Array, samples: Float32Array, createRunner: CreateRunner, ort: { Tensor: new (t: string, d: unknown, dims: number[]) => unknown }): Promise<Float32Array> {
  const runner = await createRunner(model);
  const chunks = Math.floor(samples.length / 512);
  const probs = new Float32Array(chunks);
  let state = new Float32Array(256);
  const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
  for (let c = 0; c < chunks; c++) {
    const input = new Float32Array(576);
    if (c > 0) input.set(samples.subarray(c * 512 - 64, c * 512), 0);
    input.set(samples.subarray(c * 512, c * 512 + 512), 64);
    const out = await runner.run({ input: new ort.Tensor('float32', input, [1, 576]), state: new ort.Tensor('float32', state, [2, 1, 128]), sr });
    probs[c] = (out.output!.data as Float32Array)[0]!;
    state = Float32Array.from(out.stateN!.data as Float32Array);
  }
  return probs;
}
