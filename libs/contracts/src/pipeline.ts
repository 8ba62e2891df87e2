import { z } from 'zod';
import { DTypeSchema } from './tensor';

const PerChannel = z.union([z.number(), z.array(z.number()).min(1)]);

/** Pre- and post-processing steps: data executed by tensor-core on every platform. */
export const PipelineStepSchema = z.discriminatedUnion('op', [
  // audio (pre)
  z.object({ op: z.literal('audio.decode'), format: z.literal('wav') }),
  z.object({ op: z.literal('audio.mono') }),
  z.object({ op: z.literal('audio.resample'), rate: z.number().int().min(1000).max(384000) }),
  z.object({
    op: z.literal('audio.frame'),
    input: z.string(),
    size: z.number().int().min(1),
    context: z.number().int().min(0),
  }),
  // tensor (pre)
  z.object({
    op: z.literal('affine'),
    input: z.string(),
    c: PerChannel,
    d: PerChannel,
    e: PerChannel,
    axis: z.number().int().optional(),
  }),
  z.object({
    op: z.literal('normalize'),
    input: z.string(),
    mean: PerChannel,
    std: PerChannel,
    axis: z.number().int().optional(),
  }),
  z.object({ op: z.literal('cast'), input: z.string(), to: DTypeSchema }),
  z.object({ op: z.literal('transpose'), input: z.string(), perm: z.array(z.number().int().min(0)) }),
  // post
  z.object({ op: z.literal('softmax'), output: z.string(), axis: z.number().int().default(-1) }),
  z.object({ op: z.literal('sigmoid'), output: z.string() }),
  z.object({ op: z.literal('topk'), output: z.string(), k: z.number().int().min(1) }),
  z.object({
    op: z.literal('vad.segments'),
    output: z.string(),
    threshold: z.number().min(0).max(1),
    negThreshold: z.number().min(0).max(1),
    minSpeechMs: z.number().min(0),
    minSilenceMs: z.number().min(0),
    speechPadMs: z.number().min(0),
  }),
]);
export type PipelineStep = z.infer<typeof PipelineStepSchema>;
export type PipelineOp = PipelineStep['op'];
