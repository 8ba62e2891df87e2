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

/** cgroup memory limits, v2 then v1 ("max" or a number of bytes); a container sees the host's totalmem(). */
const CGROUP_LIMITS = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * MiB a process here can actually use: physical memory, or a cgroup limit below it. "max" and v1's "no limit"
 * (a page-rounded 2^63) are larger than physical memory, so they never win.
 */
export function effectiveMemoryMb(totalBytes: number, cgroupLimits: readonly (string | undefined)[]): number {
  let bytes = totalBytes;
  for (const text of cgroupLimits) {
    const n = Number(text?.trim());
    if (Number.isFinite(n) && n > 0 && n < bytes) bytes = n;
  }
  return Math.floor(bytes / (1024 * 1024));
}

/**
 * Computed once at start: what the server uses to choose a variant for this device. `memoryMb` (EDGE_MEMORY_MB)
 * replaces the detected memory, for devices where the agent may use only part of it.
 */
export function detectCapabilities(opts: { memoryMb?: number | undefined } = {}): DeviceCapabilities {
  const features = cpuFeatures();
  return Object.freeze({
    runtime: `onnxruntime-node@${ortNode.env.versions.node ?? ortNode.env.versions.common}`,
    precisions: ['fp32', 'fp16', 'int8', 'uint8'] as NonNullable<DeviceCapabilities['precisions']>,
    os: platform(),
    arch: arch(),
    memoryMb: opts.memoryMb ?? effectiveMemoryMb(totalmem(), CGROUP_LIMITS.map(readOptional)),
    ...(features !== undefined ? { cpuFeatures: features } : {}),
    executionProviders: executionProviders(),
  });
}
