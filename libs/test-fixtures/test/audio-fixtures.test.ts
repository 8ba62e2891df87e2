import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audioToolsAvailable, longFixture, speechFixture } from '../src';

/** The fmt fields and the data chunk of a canonical RIFF/WAVE file (what sox writes). */
function wavInfo(path: string) {
  const b = readFileSync(path);
  expect(b.toString('latin1', 0, 4)).toBe('RIFF');
  expect(b.toString('latin1', 8, 12)).toBe('WAVE');
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      fmt = { format: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    }
    if (id === 'data') return { ...fmt!, data: b.subarray(off + 8, off + 8 + size) };
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

describe.runIf(audioToolsAvailable())('audio fixtures (espeak-ng + sox)', () => {
  it('pads the sentence with 1 s of silence each side, in the format asked for', () => {
    const fx = speechFixture('quick');
    const w = wavInfo(fx.path);
    expect([w.rate, w.bits, w.channels]).toEqual([16000, 16, 1]);
    const samples = new Int16Array(w.data.buffer.slice(w.data.byteOffset, w.data.byteOffset + w.data.length));
    const seconds = samples.length / 16000;
    expect(fx.speechStart).toBe(1);
    expect(fx.speechEnd).toBeCloseTo(seconds - 1, 3);
    expect(fx.speechEnd - fx.speechStart).toBeGreaterThan(1.5); // a spoken sentence, not an empty file
    // sox dithers its output and resamples after padding, so the padding is not all zeros: dither (|x| <= 1) and,
    // within 10 ms of the speech, the resampler's ringing (measured |x| <= 64, -54 dBFS).
    const peak = (a: Int16Array) => a.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    expect(peak(samples.subarray(0, 16000 - 160))).toBeLessThanOrEqual(2);
    expect(peak(samples.subarray(samples.length - 16000 + 160))).toBeLessThanOrEqual(2);
    expect(peak(samples.subarray(0, 16000))).toBeLessThan(200);
    expect(peak(samples.subarray(samples.length - 16000))).toBeLessThan(200);
    // Speech right after the padding (espeak's own leading silence is trimmed), far above dither level.
    expect(peak(samples.subarray(16000, 16000 + 3200))).toBeGreaterThan(1000);
  });

  it('writes other rates, depths, channel counts and float encodings', () => {
    const w = wavInfo(speechFixture('weather', { rate: 44100, bits: 24, channels: 2 }).path);
    expect([w.rate, w.bits, w.channels, w.format === 1 || w.format === 0xfffe]).toEqual([44100, 24, 2, true]);
    const f = wavInfo(speechFixture('weather', { bits: 32, encoding: 'float' }).path);
    expect([f.rate, f.bits, f.channels, f.format === 3 || f.format === 0xfffe]).toEqual([16000, 32, 1, true]);
  });

  it('makes a long noise file of exactly the asked length', () => {
    const w = wavInfo(longFixture(3));
    expect(w.data.length).toBe(3 * 16000 * 2);
  });
});
