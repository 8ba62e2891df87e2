import { z } from 'zod';

/** One output compared between the reference (float32) model and a variant. */
export const OutputComparisonSchema = z.object({
  name: z.string(),
  /** How a decision is read from the output: argmax over the last axis, or value >= threshold. */
  decision: z.union([z.literal('argmax'), z.object({ threshold: z.number() })]),
  /** Share of decisions (rows or elements) the variant makes as the reference does. */
  agreement: z.number().min(0).max(1),
  decisions: z.number().int().nonnegative(),
  maxAbsDiff: z.number().nonnegative(),
  /** 10 log10(sum ref^2 / sum (variant - ref)^2) in dB; null when the outputs are identical (infinite). */
  sqnrDb: z.number().nullable(),
});
export type OutputComparison = z.infer<typeof OutputComparisonSchema>;

export const LabelledMetricsSchema = z.object({
  output: z.string(),
  accuracy: z.number().min(0).max(1),
  referenceAccuracy: z.number().min(0).max(1),
  /** Mean cross-entropy of the output read as logits (or probabilities), against the labels. */
  meanCrossEntropy: z.number(),
  referenceMeanCrossEntropy: z.number(),
});

export const LatencySchema = z.object({
  runs: z.number().int().positive(),
  /** Mean ms per run of the variant and of the reference, measured interleaved in one process. */
  meanMs: z.number().nonnegative(),
  referenceMeanMs: z.number().nonnegative(),
  /** variant / reference: below 1 is faster. */
  ratio: z.number().nonnegative(),
});

/** The accuracy report of one variant against the float32 model (JSON; see formatReportTable for people). */
export const AccuracyReportSchema = z.object({
  variant: z.string(),
  samples: z.number().int().nonnegative(),
  size: z.object({ bytes: z.number().int(), referenceBytes: z.number().int(), ratio: z.number() }),
  labelled: LabelledMetricsSchema.nullable(),
  outputs: z.array(OutputComparisonSchema),
  latency: LatencySchema.nullable(),
  /** Where it ran: runtime and CPU as the caller describes them (quantized kernels differ between CPUs). */
  machine: z.string().optional(),
  passReport: z.unknown().optional(),
});
export type AccuracyReport = z.infer<typeof AccuracyReportSchema>;
