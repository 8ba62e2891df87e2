import { readFileSync } from 'node:fs';
import { arch, platform, totalmem } from 'node:os';
import type { DeviceCapabilities } from '@lepton/api';
import { ortNode } from '@lepton/node-platform';

/** CPU features that matter for choosing a variant (SIMD widths, 8-bit dot products). */
const INTERESTING = ['sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8', 'neon', 'asimd', 'asimddp', 'sve', 'i8mm', 'fp16'];

function cpuFeatures(): string[] | undefined {
  try {
    // Linux lists them per core ("flags" on x86, "Features" on ARM); the first core is enough.
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(text)?.[1] ?? '';
    const have = new Set(line.split(/\s+/));
    return INTERESTING.filter((f) => have.has(f));
  } catch {
    return undefined;
  }
}

function executionProviders(): string[] {
  try {
    return ortNode.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name);
  } catch {
    return ['cpu'];
  }
}

/** Computed once: what the server uses to choose a variant for this device. */
export const CAPABILITIES: DeviceCapabilities = Object.freeze({
  runtime: `onnxruntime-node@${ortNode.env.versions.node ?? ortNode.env.versions.common}`,
  precisions: ['fp32', 'fp16', 'int8', 'uint8'] as NonNullable<DeviceCapabilities['precisions']>,
  os: platform(),
  arch: arch(),
  memoryMb: Math.floor(totalmem() / (1024 * 1024)),
  ...(cpuFeatures() !== undefined ? { cpuFeatures: cpuFeatures() } : {}),
  executionProviders: executionProviders(),
});
