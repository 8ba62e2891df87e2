import { describe, expect, it } from 'vitest';
import { Framer } from './framer';

function frameAll(samples: Float32Array, size: number, context: number, splits: number[]): Float32Array[] {
  const f = new Framer(size, context);
  const frames: Float32Array[] = [];
  let at = 0;
  for (const s of [...splits, samples.length]) {
    const end = Math.min(samples.length, Math.max(at, s));
    frames.push(...f.push(samples.subarray(at, end)));
    at = end;
  }
  frames.push(...f.flush());
  return frames;
}

describe('Framer', () => {
  it('prefixes each chunk with the previous context (zeros first) and zero-pads the last chunk', () => {
    const x = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    const frames = frameAll(x, 4, 2, []).map((f) => Array.from(f));
    expect(frames).toEqual([
      [0, 0, 1, 2, 3, 4],
      [3, 4, 5, 6, 7, 8],
      [7, 8, 9, 10, 0, 0],
    ]);
  });

  it('handles context longer than the chunk and emits nothing on flush when nothing is pending', () => {
    const f = new Framer(2, 3);
    expect(f.push(new Float32Array([1, 2, 3, 4])).map((a) => Array.from(a))).toEqual([
      [0, 0, 0, 1, 2],
      [0, 1, 2, 3, 4],
    ]);
    expect(f.flush()).toEqual([]);
  });

  it('gives identical frames for any split of the input (VAD framing 512 + 64)', () => {
    const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 0.01));
    const whole = frameAll(x, 512, 64, []);
    expect(whole).toHaveLength(Math.ceil(5000 / 512));
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 20; trial++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => Math.floor(rand() * 5000)).sort((a, b) => a - b);
      expect(frameAll(x, 512, 64, cuts)).toEqual(whole);
    }
  });

  it('rejects a non-positive size and a negative context', () => {
    expect(() => new Framer(0, 0)).toThrow(/framer size is 0; expected a positive integer/);
    expect(() => new Framer(4, -1)).toThrow(/framer context is -1/);
  });
});
