import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SILERO_VAD_V5_MANIFEST, createPredictor, detectSpeech, type Predictor } from '../src';
import { ort, sileroBytes } from './support/model';

// Streaming: the WAV is generated on the fly (a header declaring the full length, then 64 KiB pieces of quiet
// pseudo-random noise), so no test buffer ever holds the audio. The predictor is the real one, wrapped only to
// count the chunks it has seen.

function wavHeader(dataBytes: number, rate: number): Uint8Array {
  const b = new Uint8Array(44);
  const v = new DataView(b.buffer);
  const ascii = (o: number, s: string) => b.set(Array.from(s, (c) => c.charCodeAt(0)), o);
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, dataBytes, true);
  return b;
}

describe('detectSpeech streams', () => {
  let predictor: Predictor;
  beforeAll(async () => {
    predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: sileroBytes(), ort });
  });
  afterAll(() => predictor.release());

  it('steps the model while the source is still arriving (48 kHz, 60 s, never held whole)', async () => {
    const rate = 48000;
    const seconds = 60;
    const total = rate * seconds * 2;
    let stepped = 0;
    const counting: Predictor = {
      ...predictor,
      manifest: predictor.manifest,
      openStream() {
        const s = predictor.openStream();
        return { step: (f) => (stepped++, s.step(f)), reset: () => s.reset() };
      },
    };
    const steppedWhenPulled: number[] = [];
    async function* source(): AsyncGenerator<Uint8Array> {
      yield wavHeader(total, rate);
      let seed = 7;
      for (let sent = 0; sent < total; ) {
        steppedWhenPulled.push(stepped);
        const n = Math.min(65536, total - sent);
        const piece = new Uint8Array(n);
        const v = new DataView(piece.buffer);
        for (let i = 0; i < n; i += 2) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          v.setInt16(i, ((seed >>> 16) & 0xff) - 128, true);
        }
        sent += n;
        yield piece;
      }
    }
    const run = await detectSpeech(counting, source());
    const chunks = (seconds * 16000) / 512;
    expect(run.chunks).toBe(chunks);
    expect(stepped).toBe(chunks);
    expect(run.durationSec).toBe(seconds);
    expect(run.source).toMatchObject({ sampleRate: 48000, channels: 1, encoding: 'int16' });
    expect(run.segments).toEqual([]);
    // When the last piece was pulled, all but that piece's chunks (~21 of 1875) had already been through the model:
    // nothing buffers the audio ahead of the model.
    expect(steppedWhenPulled.at(-1)!).toBeGreaterThan(chunks - 30);
  });
});
