import { z } from 'zod';
import { PrecisionSchema } from './manifest';

/** Where a built variant is meant to run. `server` keeps the registered float32 model, so it has no job. */
export const VariantTargetSchema = z.enum(['server', 'web', 'edge', 'any']);
export type VariantTarget = z.infer<typeof VariantTargetSchema>;

export const VariantJobStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed']);
export type VariantJobStatus = z.infer<typeof VariantJobStatusSchema>;

/**
 * One output of the variant compared with the float32 model on the same inputs (@lepton/onnx's accuracy reports
 * use this schema as their OutputComparison).
 */
export const VariantOutputComparisonSchema = z.object({
  name: z.string(),
  decision: z.union([z.literal('argmax'), z.object({ threshold: z.number() })]),
  /** Share of decisions the variant makes as float32 does. */
  agreement: z.number().min(0).max(1),
  decisions: z.number().int().nonnegative(),
  maxAbsDiff: z.number().nonnegative(),
  /** Signal-to-quantization-noise ratio in dB; null when the outputs are identical. */
  sqnrDb: z.number().nullable(),
});

/** The accuracy report of a built variant against the float32 model it was built from. */
export const VariantReportSchema = z.object({
  /** The pass that built it (int8-weight, int8-dynamic, fp16) and a summary of what it changed. */
  pass: z.string(),
  passSummary: z.record(z.string(), z.unknown()),
  /** What the comparison ran on, in words (real audio files or random inputs), and how many model runs. */
  data: z.object({ kind: z.enum(['audio', 'random']), description: z.string() }),
  samples: z.number().int().nonnegative(),
  size: z.object({ bytes: z.number().int(), referenceBytes: z.number().int(), ratio: z.number() }),
  outputs: z.array(VariantOutputComparisonSchema),
  /** Mean ms per run of the variant and of float32 on onnxruntime-node, measured interleaved in one process. */
  latency: z
    .object({ runs: z.number().int().positive(), meanMs: z.number().nonnegative(), referenceMeanMs: z.number().nonnegative(), ratio: z.number().nonnegative() })
    .nullable(),
  machine: z.string().optional(),
});
export type VariantReport = z.infer<typeof VariantReportSchema>;

/** A background job that builds one variant of a model version for one target profile. */
export const VariantJobSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  target: VariantTargetSchema,
  /** int8-weight, int8-dynamic or fp16; `int8-auto` until the worker has looked at the model (edge profile). */
  pass: z.string(),
  status: VariantJobStatusSchema,
  /** 0..1 */
  progress: z.number().min(0).max(1),
  /** What it is doing now (loading, converting, evaluating, storing). */
  stage: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  report: VariantReportSchema.nullable(),
  /** The variant it registered (succeeded jobs). */
  variantId: z.string().nullable(),
  precision: PrecisionSchema.nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type VariantJob = z.infer<typeof VariantJobSchema>;
