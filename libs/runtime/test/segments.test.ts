import { describe, expect, it } from 'vitest';
import { vadSegments, type SegmentParams } from '../src';

// Synthetic probabilities at 1000 Hz with 10-sample chunks: chunk i covers [10 i, 10 i + 10) ms, so expected
// times read directly in milliseconds.
const timing = (chunks: number) => ({ sampleRate: 1000, chunkSize: 10, totalSamples: chunks * 10 });
const base: SegmentParams = { threshold: 0.5, negThreshold: 0.35, minSpeechMs: 0, minSilenceMs: 0, speechPadMs: 0 };

function probs(spec: string): Float32Array {
  // '#' speech 0.9, '.' silence 0.1, '~' in between 0.4
  return Float32Array.from(spec, (c) => (c === '#' ? 0.9 : c === '~' ? 0.4 : 0.1));
}

const ms = (segs: { start: number; end: number }[]) => segs.map((s) => [Math.round(s.start * 1000), Math.round(s.end * 1000)]);

describe('vadSegments', () => {
  it('starts at the first chunk >= threshold and ends where silence begins', () => {
    const p = probs('..###..##...');
    expect(ms(vadSegments(p, base, timing(p.length)))).toEqual([
      [20, 50],
      [70, 90],
    ]);
  });

  it('keeps speech through dips shorter than minSilenceMs and between the two thresholds', () => {
    const p = probs('.##..##~~~##.....');
    // The 20 ms dip is shorter than 30 ms of silence; '~' (0.4) neither starts nor ends speech.
    const segs = vadSegments(p, { ...base, minSilenceMs: 30 }, timing(p.length));
    expect(ms(segs)).toEqual([[10, 120]]);
    // With 20 ms the dip splits the segment.
    expect(ms(vadSegments(p, { ...base, minSilenceMs: 20 }, timing(p.length)))).toEqual([
      [10, 30],
      [50, 120],
    ]);
  });

  it("'~' chunks do not start speech", () => {
    const p = probs('..~~~~..');
    expect(vadSegments(p, base, timing(p.length))).toEqual([]);
  });

  it('drops segments shorter than minSpeechMs', () => {
    const p = probs('.#...###...');
    expect(ms(vadSegments(p, { ...base, minSpeechMs: 30 }, timing(p.length)))).toEqual([[50, 80]]);
  });

  it('pads without leaving [0, duration] or overlapping neighbours', () => {
    const p = probs('#..#........###');
    // Raw: [0,10], [30,40], [120,150]. Pad 15: the first two are 20 apart, so they meet in the middle (20).
    const segs = vadSegments(p, { ...base, speechPadMs: 15 }, timing(p.length));
    expect(ms(segs)).toEqual([
      [0, 20],
      [20, 55],
      [105, 150],
    ]);
  });

  it('an open segment at the end runs to the end of the audio, clipped to its real length', () => {
    const p = probs('..####');
    const segs = vadSegments(p, base, { sampleRate: 1000, chunkSize: 10, totalSamples: 57 });
    expect(ms(segs)).toEqual([[20, 57]]);
    // Silence that started but had not lasted minSilenceMs still ends the segment where it began.
    const q = probs('..###.');
    expect(ms(vadSegments(q, { ...base, minSilenceMs: 100 }, timing(q.length)))).toEqual([[20, 50]]);
  });

  it('segment probability is the mean of its chunks', () => {
    const p = Float32Array.from([0.1, 0.6, 0.8, 1.0, 0.2]);
    const [seg] = vadSegments(p, base, timing(p.length));
    expect(seg!.probability).toBeCloseTo((Math.fround(0.6) + Math.fround(0.8) + 1) / 3, 12);
    expect(ms([seg!])).toEqual([[10, 40]]);
  });

  it('uses exact sample arithmetic: 512-sample chunks at 16 kHz', () => {
    const p = new Float32Array(100).fill(0.1);
    p.fill(0.9, 31, 70);
    const segs = vadSegments(p, { ...base, speechPadMs: 30 }, { sampleRate: 16000, chunkSize: 512, totalSamples: 100 * 512 - 100 });
    expect(segs[0]!.start).toBe((31 * 512 - 480) / 16000);
    expect(segs[0]!.end).toBe((70 * 512 + 480) / 16000);
    expect(vadSegments(new Float32Array(0), base, timing(0))).toEqual([]);
  });
});
