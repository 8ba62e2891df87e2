import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { detectCapabilities, effectiveMemoryMb } from './capabilities';

const GiB = 1024 ** 3;

describe('effectiveMemoryMb', () => {
  it('takes a cgroup limit below physical memory (a container sees the host in totalmem)', () => {
    expect(effectiveMemoryMb(16 * GiB, ['536870912\n', undefined])).toBe(512);
    expect(effectiveMemoryMb(16 * GiB, [undefined, '1073741824\n'])).toBe(1024);
  });

  it('ignores "max", the v1 no-limit value, limits above physical memory and unreadable files', () => {
    expect(effectiveMemoryMb(2 * GiB, ['max\n', '9223372036854771712\n'])).toBe(2048);
    expect(effectiveMemoryMb(2 * GiB, [String(8 * GiB), undefined, '', 'garbage'])).toBe(2048);
  });
});

describe('detectCapabilities', () => {
  it('reports this machine, with EDGE_MEMORY_MB replacing the detected memory', () => {
    const detected = detectCapabilities();
    expect(detected.os).toBe(process.platform);
    expect(detected.arch).toBe(process.arch);
    expect(detected.memoryMb).toBeGreaterThan(0);
    expect(detected.memoryMb).toBeLessThanOrEqual(Math.floor(totalmem() / (1024 * 1024)));
    expect(detected.runtime).toMatch(/^onnxruntime-node@1\.\d+\.\d+/);
    expect(detected.executionProviders).toContain('cpu');
    expect(Object.isFrozen(detected)).toBe(true);
    expect(detectCapabilities({ memoryMb: 1024 })).toEqual({ ...detected, memoryMb: 1024 });
  });
});
