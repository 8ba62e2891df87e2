import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The shared audio fixtures live in node-platform, which depends on tensor-core: a test-only cycle that the
// boundary rule cannot tell from a real one (see the report; the fixtures belong in a leaf test package).
import { ALSA_NOISE, ALSA_SPEECH, speechFixture } from '@lepton/test-fixtures';
import { LeptonError } from '../errors';
import { WavDecoder, decodeWav } from './wav';
import {
  concatBytes,
  makeWav,
  randomCuts,
  readBytes,
  referenceDecode,
  sameBits,
  soxFloat,
  splitAt,
} from '../../test/support/audio';

function decodeSplit(bytes: Uint8Array, cuts: number[]): Float32Array {
  const d = new WavDecoder();
  const parts = splitAt(bytes, cuts).map((c) => d.push(c));
  parts.push(d.end());
  return concatBytesF32(parts);
}

function concatBytesF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof LeptonError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a LeptonError');
}

const speechCases = [
  { rate: 16000, bits: 16, channels: 1, encoding: 'signed' },
  { rate: 16000, bits: 8, channels: 1, encoding: 'unsigned' },
  { rate: 44100, bits: 24, channels: 1, encoding: 'signed' },
  { rate: 16000, bits: 32, channels: 1, encoding: 'signed' },
  { rate: 48000, bits: 32, channels: 1, encoding: 'float' },
  { rate: 48000, bits: 16, channels: 2, encoding: 'signed' },
  { rate: 44100, bits: 24, channels: 2, encoding: 'signed' },
] as const;

describe('WavDecoder on real speech (espeak-ng through sox)', () => {
  for (const c of speechCases) {
    const label = `${c.rate} Hz ${c.bits}-bit ${c.encoding} x${c.channels}`;
    it(`decodes ${label} like an independent decoder, for any split of the bytes`, () => {
      const { path } = speechFixture('quick', c);
      const bytes = readBytes(path);
      const { format, samples } = decodeWav(bytes);
      expect(format.sampleRate).toBe(c.rate);
      expect(format.channels).toBe(c.channels);
      const ref = referenceDecode(bytes);
      expect(samples.length).toBe(ref.length);
      expect(sameBits(samples, ref)).toBe(true);
      if (c.channels === 1) {
        // sox's own float decode: exact for 8/16/24-bit PCM; for 32-bit int and float it rounds through its
        // 32-bit integer samples, so it may differ in the last float32 bit.
        const sox = soxFloat(path);
        if (c.bits <= 24) expect(sameBits(samples, sox)).toBe(true);
        else for (let i = 0; i < sox.length; i++) if (Math.abs(sox[i]! - samples[i]!) > 2 ** -23) expect(samples[i]).toBe(sox[i]);
      }
      // Speech is really there: 1 s of digital silence, then signal.
      let peak = 0;
      for (let i = c.rate; i < samples.length - c.rate; i++) peak = Math.max(peak, Math.abs(samples[i]!));
      expect(peak).toBeGreaterThan(0.05);
      for (const seed of [1, 2, 3]) {
        const cuts = randomCuts(bytes.length, 1 + seed * 7, seed);
        expect(sameBits(decodeSplit(bytes, cuts), samples)).toBe(true);
      }
      // Byte-at-a-time through the header and the first frames.
      const tiny = Array.from({ length: 200 }, (_, i) => i + 1);
      expect(sameBits(decodeSplit(bytes, tiny), samples)).toBe(true);
    });
  }

  it('decodes 64-bit float WAV', () => {
    const { path } = speechFixture('quick', { rate: 16000 });
    const out = join(mkdtempSync(join(tmpdir(), 'lepton-wav-')), 'f64.wav');
    execFileSync('sox', [path, '-b', '64', '-e', 'floating-point', out]);
    const bytes = readBytes(out);
    const { format, samples } = decodeWav(bytes);
    expect(format.encoding).toBe('float64');
    expect(sameBits(samples, referenceDecode(bytes))).toBe(true);
    expect(sameBits(samples, decodeWav(readBytes(path)).samples)).toBe(true);
  });

  it('decodes the alsa-utils WAVs exactly like sox', () => {
    for (const path of [...ALSA_SPEECH, ALSA_NOISE]) {
      const { format, samples } = decodeWav(readBytes(path));
      expect(format).toMatchObject({ sampleRate: 48000, channels: 1, encoding: 'int16', blockAlign: 2, dataOffset: 44 });
      expect(sameBits(samples, soxFloat(path))).toBe(true);
    }
  });
});

describe('WavDecoder structure handling', () => {
  const pcm = new Uint8Array([0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f]); // 0.5, -0.5, 32767/32768

  it('skips unknown chunks with odd sizes and pad bytes', () => {
    const wav = makeWav({ data: pcm, before: [{ id: 'LIST', body: new Uint8Array(5).fill(7) }, { id: 'fact', body: u32le(3) }] });
    const { samples, format } = decodeWav(wav);
    expect(Array.from(samples)).toEqual([0.5, -0.5, 32767 / 32768]);
    expect(format.dataOffset).toBe(12 + 24 + 14 + 12 + 8);
    for (let cut = 1; cut < wav.length; cut++) expect(Array.from(decodeSplit(wav, [cut]))).toEqual(Array.from(samples));
  });

  it('reads to the end when the data size is 0, 0xFFFFFFFF or larger than the file', () => {
    for (const dataSize of [0, 0xffffffff, 1_000_000]) {
      const { samples } = decodeWav(makeWav({ data: pcm, dataSize }));
      expect(Array.from(samples)).toEqual([0.5, -0.5, 32767 / 32768]);
    }
  });

  it('says what a cut file held: truncated only for a real data size larger than the bytes that came', () => {
    // pcm is 6 bytes (3 frames of 16-bit mono).
    const cut = decodeWav(makeWav({ data: pcm, dataSize: 1_000_000 }));
    expect(cut.truncated).toEqual({ declaredBytes: 1_000_000, readBytes: 6 });
    // The same through the streaming decoder, split anywhere: known only at end().
    const bytes = makeWav({ data: pcm, dataSize: 8 });
    for (let at = 1; at < bytes.length; at++) {
      const d = new WavDecoder();
      d.push(bytes.subarray(0, at));
      d.push(bytes.subarray(at));
      expect(d.truncated).toBeUndefined();
      d.end();
      expect(d.truncated).toEqual({ declaredBytes: 8, readBytes: 6 });
    }
    // "Read to the end" sizes, an exact size and a size followed by more chunks are complete files.
    for (const dataSize of [0, 0xffffffff, 6]) expect(decodeWav(makeWav({ data: pcm, dataSize })).truncated).toBeUndefined();
    expect('truncated' in decodeWav(makeWav({ data: pcm }))).toBe(false);
    const trailing = concatBytes([makeWav({ data: pcm, dataSize: 4 }).subarray(0, 12 + 24 + 8 + 4), new TextEncoder().encode('LIST'), u32le(0)]);
    expect(decodeWav(trailing).truncated).toBeUndefined();
  });

  it('stops at the declared data size and ignores trailing chunks', () => {
    const wav = concatBytes([makeWav({ data: pcm, dataSize: 4 }).subarray(0, 12 + 24 + 8 + 4), new TextEncoder().encode('LIST'), u32le(0)]);
    expect(Array.from(decodeWav(wav).samples)).toEqual([0.5, -0.5]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE PCM and float', () => {
    expect(Array.from(decodeWav(makeWav({ data: pcm, extensible: 1 })).samples)).toEqual([0.5, -0.5, 32767 / 32768]);
    const f = new Uint8Array(new Float32Array([0.25, -1, 0.75, 0.5]).buffer);
    const { samples, format } = decodeWav(makeWav({ data: f, extensible: 3, bits: 32, channels: 2 }));
    expect(format.encoding).toBe('float32');
    expect(Array.from(samples)).toEqual([-0.375, 0.625]);
  });

  it('never allocates what a header claims: a huge LIST size is skipped lazily', () => {
    const d = new WavDecoder();
    const head = makeWav({ data: pcm }).subarray(0, 36);
    d.push(concatBytes([head, new TextEncoder().encode('LIST'), u32le(0xfffffff0), new Uint8Array(100)]));
    expect(codeOf(() => d.end()).code).toBe('WAV_TRUNCATED');
  });
});

describe('WavDecoder errors', () => {
  const good = makeWav({ data: new Uint8Array([1, 2, 3, 4]) });
  const withFmt = (patch: (v: DataView) => void) => {
    const b = good.slice();
    patch(new DataView(b.buffer, 20));
    return b;
  };

  it('WAV_TRUNCATED for a file cut inside the header or mid-frame', () => {
    for (const n of [3, 11, 20, 30, 40]) {
      const e = codeOf(() => decodeWav(good.subarray(0, n)));
      expect(e.code).toBe('WAV_TRUNCATED');
      expect(e.message).toMatch(new RegExp(`after ${n} bytes`));
    }
    // Mid-frame where the data chunk is complete (its size is not a whole number of frames) or of unknown size.
    // (makeWav pads an odd body to an even length; without the pad byte the unknown-size file ends mid-frame.)
    for (const wav of [makeWav({ data: new Uint8Array([1, 2, 3, 4, 5]) }), makeWav({ data: new Uint8Array([1, 2, 3, 4, 5]), dataSize: 0xffffffff }).subarray(0, -1)]) {
      const e = codeOf(() => decodeWav(wav));
      expect(e).toEqual({ code: 'WAV_TRUNCATED', message: 'WAV data ends mid-frame: 1 trailing bytes of a 2-byte frame after 2 samples' });
    }
  });

  it('a file cut inside a frame is read to its last whole frame and said, like a cut on a frame boundary (was WAV_TRUNCATED)', () => {
    const real = readBytes(speechFixture('quick', { rate: 16000 }).path);
    const whole = decodeWav(real);
    const cut = decodeWav(real.subarray(0, real.length - 1));
    expect(cut.samples.length).toBe(whole.samples.length - 1);
    expect(Array.from(cut.samples)).toEqual(Array.from(whole.samples.subarray(0, -1)));
    const declaredBytes = whole.format.dataBytes;
    expect(cut.truncated).toEqual({ declaredBytes, readBytes: declaredBytes - 1 });
    // Streamed in pieces, cut 2 bytes into a 4-byte stereo 16-bit frame (the split lands inside that frame too).
    const stereo = makeWav({ data: new Uint8Array([0, 64, 0, 64, 0, 192, 0, 192, 1, 2]), dataSize: 16, channels: 2 });
    const d = new WavDecoder();
    const samples = [...d.push(stereo.subarray(0, 53)), ...d.push(stereo.subarray(53))];
    d.end();
    expect(samples).toEqual([0.5, -0.5]);
    expect(d.truncated).toEqual({ declaredBytes: 16, readBytes: 10 });
    // Cut inside the first frame: nothing to read.
    expect(codeOf(() => decodeWav(makeWav({ data: new Uint8Array([1]), dataSize: 2 }).subarray(0, -1))).code).toBe('WAV_EMPTY');
  });

  it('WAV_INVALID for something that is not a WAV, a missing fmt, garbage chunk ids', () => {
    expect(codeOf(() => decodeWav(new TextEncoder().encode('hello world, not audio')))).toEqual({
      code: 'WAV_INVALID',
      message: 'not a WAV file: byte 0 is 0x68; expected "RIFF" at the start',
    });
    const avi = good.slice();
    avi.set(new TextEncoder().encode('AVI '), 8);
    expect(codeOf(() => decodeWav(avi)).message).toBe('RIFF form type is "AVI "; expected "WAVE"');
    const noFmt = concatBytes([new TextEncoder().encode('RIFF'), u32le(16), new TextEncoder().encode('WAVEdata'), u32le(2), new Uint8Array(2)]);
    expect(codeOf(() => decodeWav(noFmt)).message).toMatch(/data chunk comes before the fmt chunk/);
    const garbage = concatBytes([good.subarray(0, 36), new Uint8Array([0, 1, 2, 3, 9, 9, 9, 9])]);
    expect(codeOf(() => decodeWav(garbage))).toEqual({ code: 'WAV_INVALID', message: expect.stringMatching(/chunk id at byte 36 has byte 0x00/) });
    const onlyFmt = good.subarray(0, 36);
    expect(codeOf(() => decodeWav(onlyFmt)).message).toMatch(/no data chunk/);
    expect(codeOf(() => decodeWav(withFmt((v) => v.setUint16(12, 3, true)))).message).toMatch(/block align is 3; expected 2/);
  });

  it('WAV_UNSUPPORTED for A-law, 12-bit, 0 channels, absurd rates, RIFX', () => {
    const cases: [(v: DataView) => void, RegExp][] = [
      [(v) => v.setUint16(0, 6, true), /format code 6 \(A-law\) is not supported; expected 1 \(PCM\) or 3/],
      [(v) => v.setUint16(14, 12, true), /12 bits per sample is not supported/],
      [(v) => v.setUint16(2, 0, true), /0 channels; expected 1 to 64/],
      [(v) => v.setUint32(4, 0, true), /sample rate is 0 Hz; expected 1000 to 768000/],
      [(v) => v.setUint32(4, 50_000_000, true), /sample rate is 50000000 Hz/],
    ];
    for (const [patch, message] of cases) {
      const e = codeOf(() => decodeWav(withFmt(patch)));
      expect(e.code).toBe('WAV_UNSUPPORTED');
      expect(e.message).toMatch(message);
    }
    const rifx = good.slice();
    rifx[3] = 0x58;
    expect(codeOf(() => decodeWav(rifx)).code).toBe('WAV_UNSUPPORTED');
  });

  it('WAV_EMPTY for a file of 0 bytes (an empty file, not a cut header), streamed or whole', () => {
    expect(codeOf(() => decodeWav(new Uint8Array(0)))).toEqual({ code: 'WAV_EMPTY', message: 'the WAV file is empty (0 bytes); expected a WAV file' });
    expect(codeOf(() => decodeWav(Uint8Array.from([0x52]))).code).toBe('WAV_TRUNCATED'); // 'R': a cut RIFF header
  });

  it('WAV_EMPTY for a data chunk with no samples', () => {
    expect(codeOf(() => decodeWav(makeWav({ data: new Uint8Array(0) })))).toEqual({
      code: 'WAV_EMPTY',
      message: 'WAV data chunk holds 0 samples; expected at least 1',
    });
  });
});

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
