import { describe, expect, it } from 'vitest';
// See wav.test.ts for why this import carries a lint exception.
import { speechFixture } from '@lepton/test-fixtures';
import { Framer } from './framer';
import { Resampler } from './resample';
import { WavDecoder, decodeWav } from './wav';
import { randomCuts, readBytes, sameBits, splitAt } from '../../test/support/audio';

/** The VAD front end: WAV bytes -> mono -> 16 kHz -> frames of 64 context + 512 new samples, all streaming. */
function frames(bytes: Uint8Array, cuts: number[]): Float32Array[] {
  const decoder = new WavDecoder();
  const framer = new Framer(512, 64);
  let resampler: Resampler | undefined;
  const out: Float32Array[] = [];
  const feed = (samples: Float32Array) => {
    if (!resampler && decoder.format) resampler = new Resampler(decoder.format.sampleRate, 16000);
    if (resampler) out.push(...framer.push(resampler.push(samples)));
  };
  for (const piece of splitAt(bytes, cuts)) feed(decoder.push(piece));
  feed(decoder.end());
  out.push(...framer.push(resampler!.flush()), ...framer.flush());
  return out;
}

describe('decode -> resample -> frame chain', () => {
  it('gives bit-identical frames for any split of a 44.1 kHz stereo 24-bit upload', () => {
    const bytes = readBytes(speechFixture('weather', { rate: 44100, bits: 24, channels: 2 }).path);
    const whole = frames(bytes, []);
    const n = decodeWav(bytes).samples.length;
    expect(n / 44100).toBeGreaterThan(3);
    expect(whole.length).toBe(Math.ceil(Math.ceil((n * 16000) / 44100) / 512));
    for (const seed of [21, 22, 23]) {
      const split = frames(bytes, randomCuts(bytes.length, 5 + seed, seed));
      expect(split.length).toBe(whole.length);
      for (let i = 0; i < whole.length; i++) if (!sameBits(split[i]!, whole[i]!)) throw new Error(`frame ${i} differs (seed ${seed})`);
    }
  });
});
