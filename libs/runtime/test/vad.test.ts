import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { LeptonError } from '@lepton/tensor-core';
import { SILERO_VAD_V5_MANIFEST, createPredictor, detectSpeech, type Predictor, type VadRun } from '../src';
import { ort, sileroBytes } from './support/model';
import { ALSA_NOISE, ALSA_SPEECH, audioToolsAvailable, cutWav, speechFixture, type FixtureFormat } from '@lepton/test-fixtures';

// Acceptance tests on real audio with the real model (onnxruntime-node 1.30, Silero VAD v5 from vad-web 0.0.31).
// Expected speech bounds come from the fixtures: espeak-ng speech starts at exactly 1.0 s and ends 1.0 s before
// the end of the file (sox pad 1 1).

/** Deterministic pseudo-random chunk sizes (mulberry32), from 1 byte up to `max`. */
function* randomChunks(bytes: Uint8Array, seed: number, max: number): Generator<Uint8Array> {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let o = 0; o < bytes.length; ) {
    const n = 1 + Math.floor(next() ** 3 * max);
    // Copy into an odd offset of a larger buffer, as pooled network buffers arrive.
    const pool = new Uint8Array(n + 3);
    pool.set(bytes.subarray(o, o + n), 3);
    yield pool.subarray(3, 3 + Math.min(n, bytes.length - o));
    o += n;
  }
}

async function* slowly(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve();
    yield c;
  }
}

describe.runIf(audioToolsAvailable())('detectSpeech with Silero VAD v5', () => {
  let predictor: Predictor;
  const baseline = new Map<string, VadRun>();
  beforeAll(async () => {
    predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: sileroBytes(), ort });
  });
  afterAll(() => predictor.release());

  it.each(['quick', 'weather'] as const)('finds the speech in "%s" (espeak-ng, 16 kHz 16-bit)', async (name) => {
    const f = speechFixture(name);
    const run = await detectSpeech(predictor, readFileSync(f.path));
    baseline.set(name, run);
    expect(run.segments.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs(run.segments[0]!.start - f.speechStart)).toBeLessThanOrEqual(0.15);
    expect(Math.abs(run.segments.at(-1)!.end - f.speechEnd)).toBeLessThanOrEqual(0.3);
    expect(run.sampleRate).toBe(16000);
    expect(run.source).toMatchObject({ sampleRate: 16000, channels: 1, encoding: 'int16' });
    expect(run.chunks).toBe(Math.ceil((run.durationSec * 16000) / 512));
    expect(run.probabilities.length).toBe(run.chunks);
    for (const s of run.segments) {
      expect(s.probability).toBeGreaterThan(0.5);
      expect(s.end).toBeGreaterThan(s.start);
    }
  });

  it('finds nothing in alsa-utils Noise.wav and speech in every alsa-utils voice file', async () => {
    const noise = await detectSpeech(predictor, readFileSync(ALSA_NOISE));
    expect(noise.segments).toEqual([]);
    expect(Math.max(...noise.probabilities)).toBeLessThan(0.5);
    for (const path of ALSA_SPEECH) {
      const run = await detectSpeech(predictor, readFileSync(path));
      expect(run.segments.length, path).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives bit-identical probabilities whether the bytes come whole or in random chunks', async () => {
    for (const path of [speechFixture('quick').path, speechFixture('weather', { rate: 48000, channels: 2 }).path, ALSA_SPEECH[0]!]) {
      const bytes = new Uint8Array(readFileSync(path));
      const whole = await detectSpeech(predictor, bytes);
      // Byte-sized chunks (through the header and mid-sample) only for the short file: they are slow to feed.
      const plans = path === ALSA_SPEECH[0] ? [[1, 7], [2, 1000]] : [[2, 1000], [3, 70000]];
      for (const [seed, max] of plans as [number, number][]) {
        const chunked = await detectSpeech(predictor, slowly(randomChunks(bytes, seed, max)));
        expect(Buffer.from(chunked.probabilities.buffer)).toEqual(Buffer.from(whole.probabilities.buffer));
        expect(chunked.segments).toEqual(whole.segments);
        expect(chunked.durationSec).toBe(whole.durationSec);
      }
      const sync = await detectSpeech(predictor, randomChunks(bytes, 4, 5000));
      expect(Buffer.from(sync.probabilities.buffer)).toEqual(Buffer.from(whole.probabilities.buffer));
    }
  });

  const variants: [string, FixtureFormat, string][] = [
    ['stereo', { channels: 2 }, 'int16'],
    ['48 kHz', { rate: 48000 }, 'int16'],
    ['8-bit', { bits: 8 }, 'uint8'],
    ['24-bit', { bits: 24 }, 'int24'],
    ['float', { bits: 32, encoding: 'floating-point' }, 'float32'],
  ];
  it.each(variants)('%s files give the same segments as 16 kHz 16-bit within 0.1 s', async (_label, format, encoding) => {
    for (const name of ['quick', 'weather'] as const) {
      const reference = baseline.get(name) ?? (await detectSpeech(predictor, readFileSync(speechFixture(name).path)));
      const run = await detectSpeech(predictor, readFileSync(speechFixture(name, format).path));
      expect(run.source.encoding).toBe(encoding);
      expect(run.segments.length, name).toBe(reference.segments.length);
      run.segments.forEach((s, i) => {
        expect(Math.abs(s.start - reference.segments[i]!.start), `${name} start ${i}`).toBeLessThanOrEqual(0.1);
        expect(Math.abs(s.end - reference.segments[i]!.end), `${name} end ${i}`).toBeLessThanOrEqual(0.1);
      });
    }
  });

  it('options override the manifest defaults', async () => {
    const bytes = readFileSync(speechFixture('quick').path);
    const strict = await detectSpeech(predictor, bytes, { minSpeechMs: 10_000 });
    expect(strict.segments).toEqual([]);
    const padded = await detectSpeech(predictor, bytes, { speechPadMs: 500 });
    const plain = await detectSpeech(predictor, bytes, { speechPadMs: 0 });
    expect(padded.segments[0]!.start).toBeCloseTo(plain.segments[0]!.start - 0.5, 9);
    // The probabilities do not depend on postprocess options.
    expect(Buffer.from(padded.probabilities.buffer)).toEqual(Buffer.from(plain.probabilities.buffer));
    await expect(detectSpeech(predictor, bytes, { threshold: 0.3, negThreshold: 0.6 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(detectSpeech(predictor, bytes, { threshold: 2 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('reads a cut file (data chunk larger than the file) to its end and says so in warnings; a complete file has none', async () => {
    const bytes = new Uint8Array(readFileSync(speechFixture('quick').path));
    const complete = await detectSpeech(predictor, bytes);
    expect('warnings' in complete).toBe(false);
    // 1.5 s of the 16 kHz 16-bit file: into the sentence, which starts at 1.0 s.
    const cut = cutWav(bytes, 1.5 * 16000 * 2);
    const warnings = [
      {
        code: 'WAV_TRUNCATED',
        message: `WAV data chunk declares ${cut.declaredBytes} bytes, the file holds 48000; read 48000 (the file looks cut short)`,
        details: { declaredBytes: cut.declaredBytes, readBytes: 48000 },
      },
    ];
    const whole = await detectSpeech(predictor, cut.bytes);
    expect(whole.warnings).toEqual(warnings);
    expect(whole.durationSec).toBe(1.5);
    // The complete file's numbers for its first 1.5 s (46 whole chunks; the 47th is zero-padded here): the cut is
    // only said, not treated differently.
    expect(whole.chunks).toBe(47);
    expect(Array.from(whole.probabilities.subarray(0, 46))).toEqual(Array.from(complete.probabilities.subarray(0, 46)));
    expect(whole.segments.length).toBe(1);
    expect(whole.segments[0]!.start).toBe(complete.segments[0]!.start);
    // Streamed in random chunks: known once the bytes end, the same warning.
    const streamed = await detectSpeech(predictor, slowly(randomChunks(cut.bytes, 5, 3000)));
    expect(streamed.warnings).toEqual(warnings);
    expect(Buffer.from(streamed.probabilities.buffer)).toEqual(Buffer.from(whole.probabilities.buffer));
  });

  it('rejects bad audio and over-long audio with typed errors', async () => {
    await expect(detectSpeech(predictor, new TextEncoder().encode('not a wav file at all, just text'))).rejects.toBeInstanceOf(LeptonError);
    await expect(detectSpeech(predictor, readFileSync(speechFixture('quick').path), {}, { maxSeconds: 2 })).rejects.toMatchObject({
      code: 'AUDIO_TOO_LARGE',
    });
    const notVad = await createPredictor({ manifest: { ...SILERO_VAD_V5_MANIFEST, task: 'generic' }, model: sileroBytes(), ort });
    await expect(detectSpeech(notVad, readFileSync(ALSA_NOISE))).rejects.toMatchObject({ code: 'MODEL_NOT_VAD' });
    await notVad.release();
  });
});
