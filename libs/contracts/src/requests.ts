import { z } from 'zod';
import { WireFormatSchema, WireTensorSchema } from './tensor';

export const AnsweredBySchema = z.enum(['server', 'edge', 'local', 'browser']);
export type AnsweredBy = z.infer<typeof AnsweredBySchema>;

export const ModelRefSchema = z.object({
  model: z.string().min(1).max(128),
  version: z.string().optional(),
});

export const InferRequestSchema = ModelRefSchema.extend({
  /** Empty for models without inputs (constants only). */
  inputs: z.array(WireTensorSchema).max(64),
  /** Output names to return (default all). */
  outputs: z.array(z.string()).optional(),
  /** Encoding of the returned tensors (default base64). */
  format: WireFormatSchema.default('base64'),
});
export type InferRequest = z.input<typeof InferRequestSchema>;

export const TimingsSchema = z.object({
  totalMs: z.number(),
  inferenceMs: z.number(),
});

/** The model artifact that answered: its variant id (when known) and the sha256 of its bytes. */
export const AnsweredArtifactSchema = z.object({
  variant: z.string().optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AnsweredArtifact = z.infer<typeof AnsweredArtifactSchema>;

export const InferResponseSchema = z.object({
  model: z.string(),
  version: z.string(),
  outputs: z.array(WireTensorSchema),
  answeredBy: AnsweredBySchema,
  /** Set by hosts that run one artifact of several (an edge agent runs the variant assigned to it). */
  artifact: AnsweredArtifactSchema.optional(),
  timings: TimingsSchema,
});
export type InferResponse = z.infer<typeof InferResponseSchema>;

export const VadOptionsSchema = z.object({
  threshold: z.number().min(0).max(1).optional(),
  negThreshold: z.number().min(0).max(1).optional(),
  minSpeechMs: z.number().min(0).max(60_000).optional(),
  minSilenceMs: z.number().min(0).max(60_000).optional(),
  speechPadMs: z.number().min(0).max(10_000).optional(),
});
export type VadOptions = z.infer<typeof VadOptionsSchema>;

export const VadDetectRequestSchema = z.object({
  model: z.string().min(1).max(128).default('silero-vad-v5'),
  /** A registered version of the model (default: its latest; on an edge agent, the version it caches). */
  version: z.string().min(1).max(64).optional(),
  /** The WAV file, base64. Large files go through the streaming HTTP route instead. */
  /** Base64; an empty string reaches the decoder, which answers WAV_EMPTY as every other surface does. */
  wav: z.string(),
  options: VadOptionsSchema.default({}),
  includeProbabilities: z.boolean().default(false),
});
export type VadDetectRequest = z.input<typeof VadDetectRequestSchema>;

export const SpeechSegmentSchema = z.object({
  start: z.number(),
  end: z.number(),
  probability: z.number(),
});
export type SpeechSegment = z.infer<typeof SpeechSegmentSchema>;

/**
 * Something about the input the answer still stands on but the caller should know, in the error body's shape
 * (code, message, details). WAV_TRUNCATED: the data chunk declares more bytes than the file holds (a cut file);
 * it is read to its end, so the segments cover `readBytes` of audio, not the declared length.
 */
export const VadWarningSchema = z.object({
  code: z.literal('WAV_TRUNCATED'),
  message: z.string(),
  details: z.object({ declaredBytes: z.number().int().nonnegative(), readBytes: z.number().int().nonnegative() }),
});
export type VadWarning = z.infer<typeof VadWarningSchema>;

export const VadResultSchema = z.object({
  model: z.string(),
  version: z.string(),
  segments: z.array(SpeechSegmentSchema),
  chunks: z.number().int(),
  /** Seconds of audio after resampling to the model's rate. */
  durationSec: z.number(),
  sampleRate: z.number().int(),
  source: z.object({ sampleRate: z.number().int(), channels: z.number().int(), encoding: z.string() }),
  probabilities: z.array(z.number()).optional(),
  /** Present only when there is something to say (absent for a complete file). */
  warnings: z.array(VadWarningSchema).min(1).optional(),
  answeredBy: AnsweredBySchema,
  artifact: AnsweredArtifactSchema.optional(),
  timings: TimingsSchema,
});
export type VadResult = z.infer<typeof VadResultSchema>;
