import { z } from 'zod';
import { DTypeSchema, PrecisionSchema, SessionOptionsSchema, VariantTargetSchema, WireTensorSchema } from '@lepton/contracts';

/**
 * Where a parity run executes a model: the server, an edge agent, the caller's own process, a browser on
 * onnxruntime-web's WASM backend, or the same browser on its WebGPU backend (where the browser offers a WebGPU
 * adapter; otherwise that platform's run fails with WEBGPU_UNAVAILABLE, it never falls back to WASM).
 */
export const ParityPlatformSchema = z.enum(['server', 'edge', 'local', 'browser', 'browser-webgpu']);
export type ParityPlatform = z.infer<typeof ParityPlatformSchema>;

/** One platform's answer: its outputs (wire form), what it fed the model, and how it ran. */
export const ParityRunSchema = z.object({
  platform: ParityPlatformSchema,
  ok: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  outputs: z.array(WireTensorSchema).default([]),
  /**
   * sha256 (hex) of the exact feeds the platform gave onnxruntime after its own decoding and preprocessing
   * (canonical layout: `feedsCanonicalBytes`). Absent where the platform does not report it (an edge agent's infer).
   */
  feedsSha256: z.string().optional(),
  /** Number of model calls the feeds cover (1 for a plain infer, one per chunk for a streamed VAD file). */
  steps: z.number().int().min(0).default(1),
  runtime: z.string().optional(),
  executionProvider: z.string().optional(),
  sessionOptions: SessionOptionsSchema.optional(),
  /**
   * sha256 (hex) of the model artifact the platform ran (the bytes it checked before creating its session), and
   * that variant's id. Absent where the platform does not say (an edge agent that forwarded to the server).
   */
  artifactSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  variant: z.string().optional(),
  /** Who actually answered (an edge agent forwards models it does not run to the server). */
  answeredBy: z.string().optional(),
  inferenceMs: z.number().optional(),
});
export type ParityRun = z.infer<typeof ParityRunSchema>;
export type ParityRunInput = z.input<typeof ParityRunSchema>;

export const ParityRequestSchema = z.object({
  /** A registry id; with `modelBytes`, the display name of the uploaded file. */
  model: z.string().min(1).max(128),
  /**
   * An ONNX file (base64) to compare instead of a registered model: the server registers it under a generic
   * manifest derived from its graph, as `parity-<sha256 prefix>` (idempotent: the same bytes reuse the entry).
   */
  modelBytes: z.string().optional(),
  version: z.string().optional(),
  /**
   * The variant every platform runs: an id from the record (wins), or a target and/or precision as
   * `variants.choose` resolves them. Absent: the fp32 model. Its precision picks the report's tolerances.
   */
  variant: z.string().min(1).max(64).optional(),
  precision: PrecisionSchema.optional(),
  target: VariantTargetSchema.optional(),
  /**
   * Also run the fp32 model on the server over the same feeds and report each platform's difference from it
   * (informational: the verdict compares platforms with each other). Ignored when the variant is fp32.
   */
  compareFp32: z.boolean().default(false),
  /** The feeds, on the wire (generic models). */
  inputs: z.array(WireTensorSchema).max(64).default([]),
  /**
   * VAD models: a WAV file (base64) that each platform decodes, resamples and frames itself through the
   * manifest's pipeline; the compared output is the per-chunk speech probability.
   */
  wav: z.string().optional(),
  platforms: z.array(ParityPlatformSchema).min(1).max(5).default(['server']),
  /** Platform the others are compared with (default: the first one that ran). */
  reference: ParityPlatformSchema.optional(),
  /** Base URL of the edge agent to include (platform 'edge'). */
  edgeUrl: z.string().url().optional(),
  /** Runs the caller made itself (a browser page, the CLI's local run), merged into the report. */
  provided: z.array(ParityRunSchema).max(5).default([]),
});
export type ParityRequest = z.input<typeof ParityRequestSchema>;

export const ToleranceSchema = z.object({
  dtype: DTypeSchema,
  precision: PrecisionSchema,
  rtol: z.number(),
  atol: z.number(),
  /** 'allclose': |a - b| <= atol + rtol |b| per element; 'exact' for integers, bool and strings. */
  rule: z.enum(['allclose', 'exact']),
});
export type Tolerance = z.infer<typeof ToleranceSchema>;

export const ArgmaxSummarySchema = z.object({
  rows: z.number().int(),
  classes: z.number().int(),
  agree: z.number().int(),
  /** Rows whose top-1 differs but whose reference scores of both classes are within the tolerance. */
  nearTies: z.number().int(),
  hardDisagreements: z.array(z.number().int()),
});

export const OutputComparisonSchema = z.object({
  platform: ParityPlatformSchema,
  pass: z.boolean(),
  reason: z.string().optional(),
  count: z.number().int(),
  // JSON has no Infinity: null stands for an infinite value (NaN against a number, identical outputs' SQNR).
  maxAbs: z.number().nullable(),
  maxRel: z.number().nullable(),
  /** Float32 ulps (float16 ulps for float16 outputs). */
  maxUlp: z.number().nullable(),
  cosine: z.number().nullable(),
  sqnrDb: z.number().nullable(),
  mismatches: z.number().int(),
  argmax: ArgmaxSummarySchema.optional(),
});
export type OutputComparison = z.infer<typeof OutputComparisonSchema>;

export const ParityVariantSchema = z.object({
  id: z.string(),
  precision: PrecisionSchema,
  target: VariantTargetSchema,
  sha256: z.string(),
});

export const ParityReportSchema = z.object({
  model: z.string(),
  version: z.string(),
  precision: PrecisionSchema,
  /** The variant every platform was asked to run (absent when the caller named none, e.g. a local-only file run). */
  variant: ParityVariantSchema.optional(),
  reference: ParityPlatformSchema,
  tolerances: z.array(ToleranceSchema),
  platforms: z.array(ParityRunSchema.omit({ outputs: true })),
  preprocessing: z.object({
    /** True when every platform that reports a digest fed onnxruntime the same bytes. */
    identical: z.boolean(),
    digests: z.record(z.string(), z.string()),
    unreported: z.array(ParityPlatformSchema),
  }),
  /**
   * The model artifact each platform ran. `identical`: every platform that reports a digest ran the same bytes,
   * and they are the variant's. A platform that does not report one is listed; with a variant named, that fails.
   */
  artifacts: z.object({
    identical: z.boolean(),
    digests: z.record(z.string(), z.string()),
    unreported: z.array(ParityPlatformSchema),
  }),
  outputs: z.array(
    z.object({
      name: z.string(),
      dtype: DTypeSchema,
      shape: z.array(z.number()),
      comparisons: z.array(OutputComparisonSchema),
    }),
  ),
  /**
   * Each platform's difference from the fp32 model run on the server over the same feeds (asked with
   * `compareFp32` for a non-fp32 variant): what the quantization costs, reported beside the parity verdict.
   */
  fp32Reference: z
    .object({
      sha256: z.string(),
      outputs: z.array(z.object({ name: z.string(), comparisons: z.array(OutputComparisonSchema) })),
    })
    .optional(),
  pass: z.boolean(),
});
export type ParityReport = z.infer<typeof ParityReportSchema>;
