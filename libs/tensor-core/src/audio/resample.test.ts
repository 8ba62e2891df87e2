import { describe, expect, it } from 'vitest';
// The shared audio fixtures live in node-platform, which depends on tensor-core: a test-only cycle that the
// boundary rule cannot tell from a real one (see the report; the fixtures belong in a leaf test package).
import { speechFixture } from '@lepton/test-fixtures';
import { LeptonError } from '../errors';
import { Resampler, resample } from './resample';
import { decodeWav } from './wav';
import { randomCuts, readBytes, sameBits, soxFloat, splitAt } from '../../test/support/audio';

function resampleSplit(x: Float32Array, from: number, to: number, cuts: number[]): Float32Array {
  const r = new Resampler(from, to);
  const parts = splitAt(x, cuts).map((c) => r.push(c));
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** RMS over the middle of a signal (away from the zero-padded edges). */
function midRms(x: Float32Array): number {
  const a = Math.floor(x.length / 4);
  const b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (b - a));
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

const RATIOS = [
  [48000, 16000],
  [44100, 16000],
  [8000, 16000],
  [22050, 16000],
  [16000, 44100],
  // Coprime rates: 16000 phases, rows interpolated on demand instead of tabulated.
  [44101, 16000],
] as const;

describe('Resampler', () => {
  it('copies the input exactly when the rates are equal', () => {
    const x = sine(440, 16000, 0.1);
    const y = resample(x, 16000, 16000);
    expect(y).not.toBe(x);
    expect(sameBits(y, x)).toBe(true);
    expect(sameBits(resampleSplit(x, 16000, 16000, [5, 77, 900]), x)).toBe(true);
  });

  for (const [from, to] of RATIOS) {
    it(`${from} -> ${to}: any chunking gives bit-identical output of length ceil(N * to / from)`, () => {
      const x = Float32Array.from({ length: 7919 }, (_, i) => Math.sin(i * 0.37) * 0.3 + Math.cos(i * 0.011) * 0.2);
      const whole = resample(x, from, to);
      expect(whole.length).toBe(Math.ceil((x.length * to) / from));
      for (const seed of [11, 12, 13, 14]) {
        const cuts = randomCuts(x.length, seed - 9 + (seed % 3) * 20, seed);
        expect(sameBits(resampleSplit(x, from, to, cuts), whole)).toBe(true);
      }
      // One sample at a time, too.
      const ones = Array.from({ length: 600 }, (_, i) => i);
      expect(sameBits(resampleSplit(x, from, to, ones), whole)).toBe(true);
    });
  }

  it('keeps a 1 kHz sine within 1 % of its amplitude', () => {
    for (const [from, to] of RATIOS) {
      const y = resample(sine(1000, from, 0.5), from, to);
      const expected = sine(1000, to, 0.5);
      expect(Math.abs(midRms(y) / midRms(expected) - 1)).toBeLessThan(0.01);
      // And it is the same sine, in phase (no delay): compare the middle sample by sample.
      const mid = Math.floor(y.length / 2);
      for (let i = mid; i < mid + 50; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThan(0.01);
    }
  });

  it('attenuates a 10 kHz sine by more than 40 dB when going 48 kHz -> 16 kHz (anti-aliasing)', () => {
    const y = resample(sine(10000, 48000, 0.5), 48000, 16000);
    const db = 20 * Math.log10(midRms(y) / midRms(sine(10000, 48000, 0.5)));
    expect(db).toBeLessThan(-40);
  });

  it('matches sox on real speech at 48 kHz and 44.1 kHz (correlation > 0.99)', () => {
    for (const rate of [48000, 44100]) {
      const { path } = speechFixture('quick', { rate });
      const { samples } = decodeWav(readBytes(path));
      const ours = resample(samples, rate, 16000);
      const sox = soxFloat(path, 16000);
      expect(Math.abs(ours.length - sox.length)).toBeLessThanOrEqual(1);
      expect(correlation(ours, sox)).toBeGreaterThan(0.99);
    }
  });

  it('rejects invalid rates with PIPELINE_INVALID', () => {
    expect(() => new Resampler(0, 16000)).toThrow(LeptonError);
    expect(() => new Resampler(16000, 999)).toThrow(/toRate is 999; expected an integer rate from 1000 to 768000 Hz/);
    expect(() => new Resampler(16000, 1.5)).toThrow(/toRate is 1.5; expected an integer rate/);
  });
});
