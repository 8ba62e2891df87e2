import { describe, expect, it } from 'vitest';
import { decodeWav } from '@lepton/tensor-core';
import { encodeWav16, floatToInt16 } from './wav-encoder';

describe('encodeWav16', () => {
  it('writes a 44-byte RIFF/WAVE PCM header for mono 16-bit', () => {
    const wav = encodeWav16(new Float32Array([0, 0.5, -0.5]), 48000);
    const view = new DataView(wav.buffer);
    const ascii = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    expect(wav.length).toBe(44 + 6);
    expect([ascii(0), ascii(8), ascii(12), ascii(36)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect(view.getUint32(4, true)).toBe(36 + 6);
    expect(view.getUint16(20, true)).toBe(1);
    expect(view.getUint16(22, true)).toBe(1);
    expect(view.getUint32(24, true)).toBe(48000);
    expect(view.getUint32(28, true)).toBe(96000);
    expect(view.getUint16(32, true)).toBe(2);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(6);
    expect([view.getInt16(44, true), view.getInt16(46, true), view.getInt16(48, true)]).toEqual([0, 16384, -16384]);
  });

  it('saturates at the int16 extremes, rounds to the nearest step and turns NaN into silence', () => {
    expect([1, -1, 2, -2, Number.NaN, 1 / 32768, -1 / 32768, 0.4 / 32768, 0.6 / 32768].map(floatToInt16)).toEqual([
      32767, -32768, 32767, -32768, 0, 1, -1, 0, 1,
    ]);
  });

  it('rejects a sample rate that is not a positive integer', () => {
    expect(() => encodeWav16(new Float32Array(1), 0)).toThrow(/sampleRate 0 is out of range/);
    expect(() => encodeWav16(new Float32Array(1), 44100.5)).toThrow(RangeError);
  });

  it('round-trips through the shared WAV decoder (tensor-core) within half an int16 step', () => {
    const n = 1000;
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) samples[i] = 0.8 * Math.sin((2 * Math.PI * 440 * i) / 16000);
    const { format, samples: decoded } = decodeWav(encodeWav16(samples, 16000));
    expect(format.sampleRate).toBe(16000);
    expect(format.channels).toBe(1);
    expect(format.encoding).toBe('int16');
    expect(decoded.length).toBe(n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(decoded[i]! - samples[i]!));
    expect(worst).toBeLessThanOrEqual(0.5 / 32768);
  });
});
