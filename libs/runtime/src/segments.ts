import type { SpeechSegment } from '@lepton/contracts';

/** Parameters of the vad.segments postprocess step (all times in milliseconds). */
export interface SegmentParams {
  /** A chunk with probability >= threshold starts (or continues) speech. */
  threshold: number;
  /** Speech ends once probabilities stay below negThreshold for minSilenceMs. */
  negThreshold: number;
  /** Segments shorter than this (before padding) are dropped. */
  minSpeechMs: number;
  minSilenceMs: number;
  /** Padding added on both sides, never overlapping a neighbour or leaving [0, duration]. */
  speechPadMs: number;
}

export interface ChunkTiming {
  sampleRate: number;
  /** New samples per chunk: chunk i covers samples [i * chunkSize, (i + 1) * chunkSize). */
  chunkSize: number;
  /** Samples in the audio; the last chunk may be zero-padded past it. */
  totalSamples: number;
}

interface Raw {
  startChunk: number;
  endChunk: number; // exclusive
  start: number; // samples
  end: number;
}

/**
 * Per-chunk speech probabilities -> speech segments, with hysteresis. Pure and platform-neutral; times are
 * computed in whole samples and converted to seconds at the end, so every platform prints the same numbers.
 * A segment's probability is the mean of its chunks' probabilities (before padding).
 */
export function vadSegments(probabilities: ArrayLike<number>, params: SegmentParams, timing: ChunkTiming): SpeechSegment[] {
  const { sampleRate, chunkSize, totalSamples } = timing;
  const samples = (ms: number) => Math.round((ms * sampleRate) / 1000);
  const minSilence = samples(params.minSilenceMs);
  const minSpeech = samples(params.minSpeechMs);
  const pad = samples(params.speechPadMs);
  const n = probabilities.length;

  const raw: Raw[] = [];
  const close = (startChunk: number, endChunk: number) => {
    const start = startChunk * chunkSize;
    const end = Math.min(endChunk * chunkSize, totalSamples);
    if (end - start >= minSpeech && end > start) raw.push({ startChunk, endChunk, start, end });
  };

  let speaking = false;
  let startChunk = 0;
  let silenceChunk = -1; // first chunk of the current run of silence, -1 when none
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    if (p >= params.threshold) {
      if (!speaking) {
        speaking = true;
        startChunk = i;
      }
      silenceChunk = -1;
    } else if (speaking && p < params.negThreshold) {
      if (silenceChunk < 0) silenceChunk = i;
      // Silence has lasted from the start of silenceChunk to the end of chunk i.
      if ((i + 1 - silenceChunk) * chunkSize >= minSilence) {
        close(startChunk, silenceChunk);
        speaking = false;
        silenceChunk = -1;
      }
    }
  }
  if (speaking) close(startChunk, silenceChunk >= 0 ? silenceChunk : n);

  const out: SpeechSegment[] = [];
  for (let k = 0; k < raw.length; k++) {
    const seg = raw[k]!;
    let start = Math.max(0, seg.start - pad);
    let end = Math.min(totalSamples, seg.end + pad);
    // Neighbours closer than two paddings split the gap between them instead of overlapping.
    const prev = raw[k - 1];
    if (prev !== undefined && seg.start - prev.end < 2 * pad) start = prev.end + Math.floor((seg.start - prev.end) / 2);
    const next = raw[k + 1];
    if (next !== undefined && next.start - seg.end < 2 * pad) end = seg.end + Math.floor((next.start - seg.end) / 2);
    let sum = 0;
    for (let i = seg.startChunk; i < seg.endChunk; i++) sum += probabilities[i]!;
    out.push({ start: start / sampleRate, end: end / sampleRate, probability: sum / (seg.endChunk - seg.startChunk) });
  }
  return out;
}
