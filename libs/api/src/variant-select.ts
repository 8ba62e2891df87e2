import { LeptonError } from '@lepton/tensor-core';
import type { ModelRecord, Variant, VariantTarget } from '@lepton/contracts';

export interface VariantQuery {
  /** Where the variant will run; absent: any target (the registered float32 model). */
  target?: VariantTarget;
  /** A precision to insist on; absent: fp32, unless a target is given. */
  precision?: Variant['precision'];
}

/**
 * The variant a client gets for a target and/or precision. With a precision: that precision built for the target,
 * else that precision for any target. With only a target: the variant built for it (the profile's choice), else
 * the float32 model registered for any target. Neither: fp32. ARTIFACT_NOT_FOUND lists what exists.
 */
export function selectVariant(record: ModelRecord, query: VariantQuery = {}): Variant {
  const target = query.target ?? 'any';
  const { precision } = query;
  let found: Variant | undefined;
  if (precision !== undefined || query.target === undefined) {
    const p = precision ?? 'fp32';
    const candidates = record.variants.filter((v) => v.precision === p);
    found = candidates.find((v) => v.target === target) ?? candidates.find((v) => v.target === 'any');
  } else {
    found =
      record.variants.find((v) => v.target === target) ??
      record.variants.find((v) => v.target === 'any' && v.precision === 'fp32') ??
      record.variants.find((v) => v.target === 'any');
  }
  if (!found) {
    const have = record.variants.map((v) => `${v.precision}/${v.target}`).join(', ') || '(none)';
    throw new LeptonError(
      'ARTIFACT_NOT_FOUND',
      `model ${record.id}@${record.version} has no ${precision ?? 'fp32'} variant for target ${target}; variants: ${have}`,
      { id: record.id, version: record.version, target, ...(precision !== undefined ? { precision } : {}) },
    );
  }
  return found;
}

/** A variant named by id (wins), or by target and/or precision as `selectVariant` resolves them. */
export interface VariantRef extends VariantQuery {
  variant?: string;
}

/** True when the reference names a variant at all (else callers use their own default: fp32). */
export const namesVariant = (ref: VariantRef): boolean => ref.variant !== undefined || ref.target !== undefined || ref.precision !== undefined;

/**
 * The variant a reference names: by id (ARTIFACT_NOT_FOUND lists the ids there are), else `selectVariant`.
 * The parity harness resolves it once and every platform runs that artifact.
 */
export function findVariant(record: ModelRecord, ref: VariantRef = {}): Variant {
  if (ref.variant === undefined) return selectVariant(record, ref);
  const found = record.variants.find((v) => v.id === ref.variant);
  if (!found) {
    throw new LeptonError(
      'ARTIFACT_NOT_FOUND',
      `model ${record.id}@${record.version} has no variant ${JSON.stringify(ref.variant)}; variants: ${record.variants.map((v) => v.id).join(', ') || '(none)'}`,
      { id: record.id, version: record.version, variant: ref.variant },
    );
  }
  return found;
}
