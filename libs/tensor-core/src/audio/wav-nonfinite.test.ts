import { describe, expect, it } from 'vitest';
import { LeptonError } from '../errors';
import { WavDecoder, decodeWav } from './wav';
import { makeWav, splitAt } from '../../test/support/audio';

/** Float WAVs can carry NaN and Infinity; decoding them silently fed NaN to the model ("no speech", HTTP 200). */
function floatWav(values: number[], bits: 32 | 64, channels = 1): Uint8Array {
  const data = bits === 32 ? new Float32Array(values) : new Float64Array(values);
  return makeWav({ tag: 3, bits, channels, data: new Uint8Array(data.buffer) });
}

function caught(f: () => unknown): LeptonError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LeptonError);
    return e as LeptonError;
  }
  throw new Error('expected a LeptonError');
}

describe('WAV float samples that are not numbers', () => {
  it('refuses NaN in float32 with WAV_INVALID naming the frame, however the bytes are split', () => {
    const bytes = floatWav([0.1, -0.2, 0.3, Number.NaN, 0.5], 32);
    const whole = caught(() => decodeWav(bytes));
    expect(whole.code).toBe('WAV_INVALID');
    expect(whole.message).toBe('WAV sample 3 is NaN; expected a finite float (NaN and Infinity are not audio)');
    for (const cut of [45, 47, 50, 53, 57]) {
      const d = new WavDecoder();
      const err = caught(() => {
        for (const part of splitAt(bytes, [cut])) d.push(part);
        d.end();
      });
      expect(err.message).toBe(whole.message);
    }
  });

  it('refuses Infinity in one channel of a float64 stereo file (the frame named, not the sample)', () => {
    const err = caught(() => decodeWav(floatWav([0, 0, 0.25, Number.POSITIVE_INFINITY], 64, 2)));
    expect(err.code).toBe('WAV_INVALID');
    expect(err.message).toBe('WAV sample 1 is Infinity; expected a finite float (NaN and Infinity are not audio)');
  });

  it('still decodes finite float samples, loud ones included', () => {
    expect(Array.from(decodeWav(floatWav([0.5, -1.5, 2], 32)).samples)).toEqual([0.5, -1.5, 2]);
  });
});
