import type { WavFormat } from '@lepton/tensor-core';
import { LeptonError } from '@lepton/tensor-core';
import type { SpeechSegment, VadOptions } from '@lepton/contracts';
import type { Predictor } from './predictor';

export interface VadRun {
  segments: SpeechSegment[];
  /** Per-chunk speech probabilities (float32 values exactly as the model returned them). */
  probabilities: Float32Array;
  chunks: number;
  sampleRate: number;
  durationSec: number;
  source: WavFormat;
  inferenceMs: number;
}

export type ByteSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Run a VAD model's manifest pipeline over a WAV: decode -> mono -> resample -> frame (streaming, bounded memory)
 * -> predictor stream per chunk -> vad.segments postprocess. Identical on every platform for the same bytes.
 * STUB: implemented by the runtime first cut.
 */
export async function detectSpeech(_predictor: Predictor, _wav: ByteSource, _options: VadOptions = {}): Promise<VadRun> {
  throw new LeptonError('NOT_IMPLEMENTED', 'detectSpeech');
}
