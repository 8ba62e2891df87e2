import type { ModelManifest, SessionOptions, VariantSessionOptions } from '@lepton/contracts';

/** The part of a variant (registry record or signed payload) that says how its artifact must be run. */
export interface VariantOptionsSource {
  sessionOptions?: VariantSessionOptions | undefined;
}

/**
 * The session options one variant runs with: its own fields over the manifest's. Every place that makes a
 * session for a variant (server inference, edge agent, browser, CLI, parity, the variant job's comparison)
 * goes through here, so an artifact that needs 'basic' (int8 DequantizeLinear -> MatMul) gets it on every
 * platform. Without a variant the manifest's options stand.
 */
export function variantSessionOptions(manifest: ModelManifest, variant?: VariantOptionsSource): SessionOptions {
  const base = manifest.sessionOptions;
  const own = variant?.sessionOptions;
  if (!own) return { ...base };
  return {
    graphOptimizationLevel: own.graphOptimizationLevel ?? base.graphOptimizationLevel,
    intraOpNumThreads: own.intraOpNumThreads ?? base.intraOpNumThreads,
    interOpNumThreads: own.interOpNumThreads ?? base.interOpNumThreads,
    executionMode: own.executionMode ?? base.executionMode,
  };
}

/** The manifest a predictor for this variant is created with: the same manifest, session options merged. */
export function manifestForVariant(manifest: ModelManifest, variant?: VariantOptionsSource): ModelManifest {
  return variant?.sessionOptions ? { ...manifest, sessionOptions: variantSessionOptions(manifest, variant) } : manifest;
}
