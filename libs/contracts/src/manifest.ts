import { z } from 'zod';
import { DTypeSchema } from './tensor';
import { PipelineStepSchema } from './pipeline';

/** A dim is a fixed size or a symbolic name (e.g. "batch"); symbolic dims must have a maximum in maxShape. */
export const DimSchema = z.union([z.number().int().min(0), z.string().min(1)]);

export const LayoutSchema = z.enum(['NCHW', 'NHWC', 'NC', 'NCT', 'NTC', 'scalar', 'any']);

export const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: DTypeSchema,
  shape: z.array(DimSchema).max(8),
  /** Upper bound for every dim (fixed dims repeat their size). Checked before running, on every platform. */
  maxShape: z.array(z.number().int().min(0)).max(8).optional(),
  layout: LayoutSchema.default('any'),
  description: z.string().optional(),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

/** A streaming state pair: `output` of call n feeds `input` of call n + 1; call 0 gets zeros. */
export const StatePairSchema = z.object({ input: z.string(), output: z.string() });

/** An input the predictor always feeds with a fixed value (Silero's `sr` = 16000, int64 scalar). */
export const ConstantFeedSchema = z.object({
  input: z.string(),
  dtype: DTypeSchema,
  shape: z.array(z.number().int().min(0)),
  value: z.array(z.union([z.number(), z.string()])),
});

/**
 * Session options that change numerics are set explicitly on every platform and recorded here
 * (field case graph-optimization-level).
 */
export const GraphOptimizationLevelSchema = z.enum(['disabled', 'basic', 'extended', 'all']);
export const ExecutionModeSchema = z.enum(['sequential', 'parallel']);

export const SessionOptionsSchema = z.object({
  graphOptimizationLevel: GraphOptimizationLevelSchema.default('all'),
  intraOpNumThreads: z.number().int().min(1).default(1),
  interOpNumThreads: z.number().int().min(1).default(1),
  executionMode: ExecutionModeSchema.default('sequential'),
});
export type SessionOptions = z.infer<typeof SessionOptionsSchema>;

/**
 * What one variant overrides of its manifest's session options (no defaults: an absent field keeps the
 * manifest's value). The variant builder records `graphOptimizationLevel: 'basic'` for int8 artifacts whose
 * DequantizeLinear feeds MatMul/Gemm: from 'extended' onnxruntime-node fuses that pair into a kernel that
 * quantizes activations at run time, which onnxruntime-web does not, so the platforms would disagree by ~1e-2.
 * Merged over the manifest's options by `@lepton/runtime` `variantSessionOptions` wherever a session is made.
 */
export const VariantSessionOptionsSchema = z
  .object({
    graphOptimizationLevel: GraphOptimizationLevelSchema.optional(),
    intraOpNumThreads: z.number().int().min(1).optional(),
    interOpNumThreads: z.number().int().min(1).optional(),
    executionMode: ExecutionModeSchema.optional(),
  })
  .strict();
export type VariantSessionOptions = z.infer<typeof VariantSessionOptionsSchema>;

/**
 * Dynamic batching (server side): requests whose inputs agree on everything but dim 0 are concatenated along
 * dim 0 and run as one batch, then the outputs are split back. Only models whose inputs and outputs all have a
 * symbolic dim 0 and no state pairs batch; others still queue (bounded) and run one request per session.
 */
export const BatchingSchema = z.object({
  /** Most rows (sum of dim 0) in one run; 1 turns batching off. */
  maxBatchSize: z.number().int().min(1).max(4096).default(1),
  /** How long the oldest queued request may wait for a fuller batch. */
  maxQueueDelayMs: z.number().min(0).max(10_000).default(0),
  /** Batch sizes to dispatch at once without waiting for the delay (Triton's preferred_batch_size). */
  preferredBatchSizes: z.array(z.number().int().min(1).max(4096)).max(16).default([]),
  /** Requests waiting beyond this answer QUEUE_FULL (HTTP 503 + Retry-After) instead of growing memory. */
  maxQueueSize: z.number().int().min(1).max(100_000).default(256),
  /** A request still queued after this long answers QUEUE_TIMEOUT; 0 waits as long as it takes. */
  timeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
});
export type Batching = z.infer<typeof BatchingSchema>;

export const TaskSchema = z.enum(['vad', 'classification', 'generic']);

export const ModelManifestSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/),
  name: z.string().min(1),
  version: z.string().min(1),
  task: TaskSchema,
  description: z.string().optional(),
  license: z.string().optional(),
  source: z.string().optional(),
  /** May be empty: a model of constants (ONNX's test_constant) takes no inputs. */
  inputs: z.array(TensorSpecSchema),
  outputs: z.array(TensorSpecSchema).min(1),
  state: z.array(StatePairSchema).default([]),
  constants: z.array(ConstantFeedSchema).default([]),
  preprocess: z.array(PipelineStepSchema).default([]),
  postprocess: z.array(PipelineStepSchema).default([]),
  labels: z.array(z.string()).optional(),
  batching: BatchingSchema.optional(),
  sessionOptions: SessionOptionsSchema.default({
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  }),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type ModelManifestInput = z.input<typeof ModelManifestSchema>;

export const PrecisionSchema = z.enum(['fp32', 'fp16', 'int8', 'uint8', 'int4']);

export const VariantSchema = z.object({
  id: z.string(),
  precision: PrecisionSchema,
  target: z.enum(['server', 'web', 'edge', 'any']).default('any'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  opset: z.number().int().optional(),
  /** Session options this artifact must run with, over the manifest's (see VariantSessionOptionsSchema). */
  sessionOptions: VariantSessionOptionsSchema.optional(),
});
export type Variant = z.infer<typeof VariantSchema>;

/** What the registry returns for a model version. */
export const ModelRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  task: TaskSchema,
  manifest: ModelManifestSchema,
  variants: z.array(VariantSchema),
  createdAt: z.string(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;
