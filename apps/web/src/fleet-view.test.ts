import { describe, expect, it } from 'vitest';
import type { DeviceSummary } from '@lepton/contracts';
import { ageText, healthOf, latencyPoints, variantsText } from './fleet-view';

const device = (over: Partial<DeviceSummary>): DeviceSummary => ({
  id: 'dev_1',
  name: 'd',
  capabilities: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  installed: {},
  latencies: [],
  errorRate: 0,
  events: 0,
  eventsByKind: {},
  ...over,
});

describe('fleet view', () => {
  it('plots latencies oldest to newest, the largest at the top, within the padding', () => {
    expect(latencyPoints([1, 2, 4], 100, 20, 2)).toBe('2.0,14.0 50.0,10.0 98.0,2.0');
    expect(latencyPoints([5], 100, 20, 2)).toBe('2.0,2.0');
    expect(latencyPoints([])).toBe('');
  });

  it('says how long ago a device was seen', () => {
    const now = Date.parse('2026-01-01T01:00:00.000Z');
    expect(ageText(undefined, now)).toBe('never');
    expect(ageText('2026-01-01T00:59:30.000Z', now)).toBe('30s ago');
    expect(ageText('2026-01-01T00:50:00.000Z', now)).toBe('10m ago');
    expect(ageText('2025-12-31T22:00:00.000Z', now)).toBe('3h ago');
  });

  it('derives health from install states and the error rate', () => {
    expect(healthOf(device({}))).toBe('unknown');
    expect(healthOf(device({ installed: { m: { version: '1', state: 'healthy' } } }))).toBe('ok');
    expect(healthOf(device({ installed: { m: { version: '1', state: 'rolled-back' } } }))).toBe('degraded');
    expect(healthOf(device({ events: 10, errorRate: 0.6 }))).toBe('failing');
  });

  it('names the assigned variant and the reason, per model when there are several', () => {
    expect(variantsText(undefined)).toBe('-');
    expect(variantsText({ vad: { version: '1', variant: 'int8-edge', precision: 'int8', reason: 'int8: 1024 MB memory is under 4096 MB' } })).toBe(
      'int8-edge (int8: 1024 MB memory is under 4096 MB)',
    );
    expect(
      variantsText({
        vad: { version: '1', variant: 'fp32', precision: 'fp32', reason: 'fp32: device has room for full precision' },
        kws: { version: '2', reason: 'ARTIFACT_NOT_FOUND: no variant this device runs' },
      }),
    ).toBe('vad fp32 (fp32: device has room for full precision); kws none (ARTIFACT_NOT_FOUND: no variant this device runs)');
  });
});
