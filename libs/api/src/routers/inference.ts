import type { TRPCRouterRecord } from '@trpc/server';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { InferRequestSchema, VadDetectRequestSchema, base64DecodedLength, decodeBase64 } from '@lepton/contracts';
import { MAX_INLINE_WAV_BYTES } from '../schemas';
import { publicProcedure } from '../trpc';

/** Run a model on wire tensors (JSON; lossless base64 or array form) and get wire tensors back. */
export const inferProcedure = publicProcedure.input(InferRequestSchema).mutation(({ ctx, input }) =>
  ctx.services.inference.infer({
    model: input.model,
    ...(input.version !== undefined ? { version: input.version } : {}),
    inputs: input.inputs,
    ...(input.outputs !== undefined ? { outputs: input.outputs } : {}),
    format: input.format,
  }),
);

export const vadRouter = {
  /** Speech segments of a base64 WAV (up to MAX_INLINE_WAV_BYTES; bigger files use POST /api/v1/vad/detect). */
  detect: publicProcedure.input(VadDetectRequestSchema).mutation(({ ctx, input }) => {
    // Checked on the encoded length, before a byte is decoded.
    const bytes = base64DecodedLength(input.wav);
    if (bytes > MAX_INLINE_WAV_BYTES) {
      throw new LeptonError(
        'AUDIO_TOO_LARGE',
        `wav is ${bytes} bytes; vad.detect accepts at most ${MAX_INLINE_WAV_BYTES} bytes inline (stream larger files to POST /api/v1/vad/detect)`,
        { bytes, limit: MAX_INLINE_WAV_BYTES },
      );
    }
    let wav: Uint8Array;
    try {
      wav = decodeBase64(input.wav);
    } catch (err) {
      // Say which field held the bad base64.
      throw isLeptonError(err) ? new LeptonError(err.code, `wav: ${err.message}`, err.details) : err;
    }
    return ctx.services.inference.vadDetect({
      model: input.model,
      ...(input.version !== undefined ? { version: input.version } : {}),
      wav,
      options: input.options,
      includeProbabilities: input.includeProbabilities,
    });
  }),
} satisfies TRPCRouterRecord;
