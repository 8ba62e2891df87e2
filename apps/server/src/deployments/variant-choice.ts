import { LeptonError } from '@lepton/tensor-core';
import type { ModelRecord, Variant } from '@lepton/contracts';
import type { DeviceCapabilities } from '@lepton/api';

/** Below this much memory a device counts as small and gets an 8-bit variant when one exists. */
export const SMALL_DEVICE_MB = 4096;

export interface VariantChoice {
  variant: Variant;
  /** Why this variant, in words (shown by `lepton deployments status` and the fleet page). */
  reason: string;
}

const EIGHT_BIT = new Set(['int8', 'uint8']);

/**
 * Pick the variant a device runs. Policy 'auto': an 8-bit variant for small devices (memory under
 * SMALL_DEVICE_MB) or x86 CPUs without AVX2, else fp32, else the first the device supports; an edge-built
 * variant wins over a generic one of the same precision. A fixed precision policy takes that precision or
 * fails naming what exists. Server- and web-only variants never go to devices.
 */
export function chooseVariant(record: ModelRecord, caps: DeviceCapabilities, policy: string): VariantChoice {
  const usable = record.variants.filter((v) => v.target === 'edge' || v.target === 'any');
  const byTarget = (list: Variant[]) => list.find((v) => v.target === 'edge') ?? list[0];
  const have = usable.map((v) => `${v.id} (${v.precision}/${v.target})`).join(', ') || '(none)';
  if (policy !== 'auto') {
    const v = byTarget(usable.filter((x) => x.precision === policy));
    if (!v) {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no ${policy} variant for devices; variants: ${have}`);
    }
    return { variant: v, reason: `policy asks for ${policy}` };
  }
  const supported = caps.precisions && caps.precisions.length > 0 ? new Set<string>(caps.precisions) : new Set(['fp32']);
  const runnable = usable.filter((v) => supported.has(v.precision));
  if (runnable.length === 0) {
    throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no variant this device runs (it supports ${[...supported].join(', ')}); variants: ${have}`);
  }
  const small = caps.memoryMb !== undefined && caps.memoryMb < SMALL_DEVICE_MB;
  const x86 = caps.arch === 'x64' || caps.arch === 'ia32';
  const noAvx2 = x86 && caps.cpuFeatures !== undefined && !caps.cpuFeatures.includes('avx2');
  const eightBit = byTarget(runnable.filter((v) => EIGHT_BIT.has(v.precision)));
  if ((small || noAvx2) && eightBit) {
    const why = small ? `${caps.memoryMb} MB memory is under ${SMALL_DEVICE_MB} MB` : 'x86 CPU without AVX2';
    return { variant: eightBit, reason: `${eightBit.precision}: ${why}` };
  }
  const fp32 = byTarget(runnable.filter((v) => v.precision === 'fp32'));
  if (fp32) {
    const anyEightBit = usable.some((v) => EIGHT_BIT.has(v.precision));
    const why = eightBit ? 'device has room for full precision' : anyEightBit ? 'device runs no 8-bit precision, fp32 fallback' : 'no 8-bit variant, fp32 fallback';
    return { variant: fp32, reason: `fp32: ${why}` };
  }
  const first = byTarget(runnable)!;
  return { variant: first, reason: `${first.precision}: the only precision this device supports` };
}
