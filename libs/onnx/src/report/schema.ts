import { z } from 'zod';
import { VariantOutputComparisonSchema } from '@lepton/contracts';

/**
 * One output compared between the reference (float32) model and a variant: the contracts schema the server's
 * variant reports store, so a report made here is the one the server serves.
 */
export const OutputComparisonSchema = VariantOutputComparisonSchema;
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
