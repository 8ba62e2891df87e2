import { Framer, LeptonError, Resampler, WavDecoder, type WavFormat, type WavTruncation } from '@lepton/tensor-core';
import { VadOptionsSchema, type SpeechSegment, type VadOptions, type VadWarning } from '@lepton/contracts';
import type { Predictor, PredictorStream } from './predictor';
import { vadPipeline, type VadPipeline } from './vad-pipeline';
import { vadSegments } from './segments';

export interface VadRun {
  segments: SpeechSegment[];
  /** Per-chunk speech probabilities (float32 values exactly as the model returned them). */
  probabilities: Float32Array;
  chunks: number;
  sampleRate: number;
  durationSec: number;
  source: WavFormat;
  inferenceMs: number;
  /** What the caller should know about the input (a cut file); absent when there is nothing to say. */
  warnings?: VadWarning[];
}

export type ByteSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface VadLimits {
  /** Reject audio longer than this (AUDIO_TOO_LARGE), checked as samples arrive. Default: no limit. */
  maxSeconds?: number;
}

// A monotonic clock where one exists (performance.now on Node, browsers and workers), Date.now otherwise. Neutral
// code cannot name `performance` in its types (lib ES2022, no DOM or Node types).
const perf = (globalThis as { performance?: { now(): number } }).performance;
const now: () => number = perf !== undefined ? () => perf.now() : () => Date.now();

/** Bytes handed to the decoder at a time: a whole file in one Uint8Array still streams in bounded memory. */
const PIECE = 64 * 1024;

/**
 * Run a VAD model's manifest pipeline over a WAV: decode -> mono -> resample -> frame (streaming, bounded memory)
 * -> predictor stream per chunk -> vad.segments postprocess. Identical on every platform for the same bytes, and
 * for any chunking of them. Only the per-chunk probabilities are kept (4 bytes per 32 ms of audio).
 */
export async function detectSpeech(
  predictor: Predictor,
  wav: ByteSource,
  options: VadOptions = {},
  limits: VadLimits = {},
): Promise<VadRun> {
  const pipeline = vadPipeline(predictor.manifest);
  const params = segmentParams(pipeline, options);
  const stream = predictor.openStream();
  const run = new ChunkRunner(stream, pipeline);

  const decoder = new WavDecoder();
  const framer = new Framer(pipeline.frameSize, pipeline.context);
  let resampler: Resampler | null | undefined; // undefined: format not known yet; null: already at the model rate
  let produced = 0;
  const maxSamples = limits.maxSeconds === undefined ? Infinity : limits.maxSeconds * pipeline.rate;

  const feed = async (samples: Float32Array) => {
    if (resampler === undefined && decoder.format !== undefined) {
      const from = decoder.format.sampleRate;
      resampler = from === pipeline.rate ? null : new Resampler(from, pipeline.rate);
    }
    const out = resampler ? resampler.push(samples) : samples;
    produced += out.length;
    if (produced > maxSamples) {
      throw new LeptonError('AUDIO_TOO_LARGE', `audio is longer than the ${limits.maxSeconds} s limit`, { maxSeconds: limits.maxSeconds });
    }
    for (const frame of framer.push(out)) await run.step(frame);
  };

  let index = 0;
  for await (const chunk of chunksOf(wav)) {
    if (!(chunk instanceof Uint8Array)) {
      throw new LeptonError('VALIDATION_FAILED', `WAV chunk ${index} is ${typeof chunk}; expected Uint8Array bytes`);
    }
    for (let o = 0; o < chunk.length; o += PIECE) await feed(decoder.push(chunk.subarray(o, o + PIECE)));
    index++;
  }
  await feed(decoder.end());
  if (resampler) {
    const tail = resampler.flush();
    produced += tail.length;
    for (const frame of framer.push(tail)) await run.step(frame);
  }
  for (const frame of framer.flush()) await run.step(frame);

  const probabilities = run.probabilities();
  const timing = { sampleRate: pipeline.rate, chunkSize: pipeline.frameSize, totalSamples: produced };
  // Known only once the bytes end (a stream cannot tell a cut file from a long one before that).
  const truncated = decoder.truncated;
  return {
    ...(truncated ? { warnings: [wavTruncatedWarning(truncated)] } : {}),
    segments: vadSegments(probabilities, params, timing),
    probabilities,
    chunks: probabilities.length,
    sampleRate: pipeline.rate,
    durationSec: produced / pipeline.rate,
    source: decoder.format!,
    inferenceMs: run.inferenceMs,
  };
}

/** The warning for a data chunk that declared more bytes than the file held: accepted, but said. */
export function wavTruncatedWarning(t: WavTruncation): VadWarning {
  return {
    code: 'WAV_TRUNCATED',
    message: `WAV data chunk declares ${t.declaredBytes} bytes, the file holds ${t.readBytes}; read ${t.readBytes} (the file looks cut short)`,
    details: { declaredBytes: t.declaredBytes, readBytes: t.readBytes },
  };
}

/** Steps the predictor stream one frame at a time and keeps only the probability of each chunk. */
class ChunkRunner {
  inferenceMs = 0;
  private probs = new Float32Array(1024);
  private count = 0;
  private readonly shape: number[];

  constructor(
    private readonly stream: PredictorStream,
    private readonly pipeline: VadPipeline,
  ) {
    this.shape = [1, pipeline.context + pipeline.frameSize];
  }

  async step(frame: Float32Array): Promise<void> {
    const t0 = now();
    const outputs = await this.stream.step({ [this.pipeline.input]: { dtype: 'float32', shape: this.shape, data: frame } });
    this.inferenceMs += now() - t0;
    const out = outputs[this.pipeline.output];
    if (out === undefined || out.dtype !== 'float32' || out.data.length < 1) {
      throw new LeptonError('INFERENCE_FAILED', `VAD output '${this.pipeline.output}' is missing or not float32`);
    }
    if (this.count === this.probs.length) {
      const grown = new Float32Array(this.probs.length * 2);
      grown.set(this.probs);
      this.probs = grown;
    }
    this.probs[this.count++] = (out.data as Float32Array)[0]!;
  }

  probabilities(): Float32Array {
    return this.probs.slice(0, this.count);
  }
}

function segmentParams(pipeline: VadPipeline, options: VadOptions) {
  const parsed = VadOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LeptonError('VALIDATION_FAILED', `VAD option ${issue.path.join('.')}: ${issue.message}`);
  }
  const o = parsed.data;
  const d = pipeline.defaults;
  const threshold = o.threshold ?? d.threshold;
  // A caller who moves only the threshold keeps the manifest's hysteresis gap.
  const negThreshold = o.negThreshold ?? Math.max(0, Math.min(threshold, threshold - (d.threshold - d.negThreshold)));
  if (negThreshold > threshold) {
    throw new LeptonError('VALIDATION_FAILED', `VAD negThreshold ${negThreshold} is above threshold ${threshold}; expected negThreshold <= threshold`);
  }
  return {
    threshold,
    negThreshold,
    minSpeechMs: o.minSpeechMs ?? d.minSpeechMs,
    minSilenceMs: o.minSilenceMs ?? d.minSilenceMs,
    speechPadMs: o.speechPadMs ?? d.speechPadMs,
  };
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (Symbol.asyncIterator in source) {
    for await (const chunk of source as AsyncIterable<Uint8Array>) yield chunk;
    return;
  }
  yield* source as Iterable<Uint8Array>;
}
