import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import type { Assignment } from '@lepton/contracts';
import { SyncLoop, nextDelay } from './sync-loop';
import type { Upstream } from './upstream';
import type { LocalModels } from './local-models';
import type { Outbox } from './outbox';
import type { ModelCache } from './model-cache';

describe('nextDelay', () => {
  it('doubles per consecutive failure up to the cap, with +-20% jitter around it', () => {
    expect([0, 1, 2, 3, 4, 5].map((f) => nextDelay(1000, f, 10_000, 0.5))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(nextDelay(1000, 0, 10_000, 0)).toBe(800);
    expect(nextDelay(1000, 0, 10_000, 0.999999)).toBe(1200);
    expect(nextDelay(1000, 3, 10_000, 0)).toBe(6400);
    // A device offline for days: the exponent is clamped, the cap still holds, nothing overflows to Infinity.
    expect(nextDelay(30_000, 10_000, 300_000, 1)).toBe(360_000);
  });

  it('spreads a fleet that comes back at once over the whole jitter window', () => {
    const delays = Array.from({ length: 1000 }, (_, i) => nextDelay(1000, 0, 10_000, i / 1000));
    expect(Math.min(...delays)).toBe(800);
    expect(Math.max(...delays)).toBe(1200);
    // 1000 evenly spread random draws land on at least 400 distinct milliseconds of the 401 possible.
    expect(new Set(delays).size).toBeGreaterThanOrEqual(400);
  });
});

/** A loop over fakes: `sync` fails while `down` is true and records when (fake clock) each attempt happened. */
function harness(opts: { pollMs: number | undefined; backoffMaxMs: number; suggestedMs?: number }) {
  const state = { down: true, attempts: [] as number[], delivered: 0, logs: [] as { event: string; fields: Record<string, unknown> }[] };
  const upstream = {
    sync: async () => {
      state.attempts.push(Date.now());
      if (state.down) throw new LeptonError('UPSTREAM_UNAVAILABLE', 'server http://127.0.0.1:1 is unreachable: ECONNREFUSED');
      return { assignments: [] as Assignment[], pollAfterMs: opts.suggestedMs ?? 30_000 };
    },
    report: async () => undefined,
    telemetry: async (events: unknown[]) => ({ stored: events.length, duplicates: 0 }),
  } as unknown as Upstream;
  const local = { reports: [], apply: async () => undefined } as unknown as LocalModels;
  const outbox = {
    deliver: async () => {
      state.delivered += 1;
      return 0;
    },
  } as unknown as Outbox;
  const cache = { evict: async () => [] } as unknown as ModelCache;
  const loop = new SyncLoop({
    upstream,
    local,
    outbox,
    cache,
    log: (event: string, fields: Record<string, unknown> = {}) => state.logs.push({ event, fields }),
    models: ['silero-vad-v5'],
    capabilities: { os: 'linux', arch: 'x64' } as never,
    pollMs: opts.pollMs,
    backoffMaxMs: opts.backoffMaxMs,
    cacheMaxBytes: 1 << 30,
  });
  return { loop, state };
}

const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]!);

describe('SyncLoop polling', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('backs off exponentially while the server is unreachable, then polls at the interval again', async () => {
    vi.useFakeTimers({ now: 0 });
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // the jitter's midpoint: delays are the bare backoff
    const { loop, state } = harness({ pollMs: 1000, backoffMaxMs: 8000 });
    loop.start(true);
    await vi.advanceTimersByTimeAsync(0 + 2000 + 4000 + 8000 + 8000);
    expect(state.attempts).toEqual([0, 2000, 6000, 14_000, 22_000]);
    expect(state.logs.filter((l) => l.event === 'sync.failed').map((l) => [l.fields['code'], l.fields['failures']])).toEqual([
      ['UPSTREAM_UNAVAILABLE', 1],
      ['UPSTREAM_UNAVAILABLE', 2],
      ['UPSTREAM_UNAVAILABLE', 3],
      ['UPSTREAM_UNAVAILABLE', 4],
      ['UPSTREAM_UNAVAILABLE', 5],
    ]);
    expect(state.delivered).toBe(0); // no delivery attempt without a sync

    state.down = false;
    await vi.advanceTimersByTimeAsync(8000 + 1000 + 1000);
    expect(gaps(state.attempts)).toEqual([2000, 4000, 8000, 8000, 8000, 1000, 1000]);
    expect(state.logs.find((l) => l.event === 'server.reachable')?.fields).toEqual({ afterFailures: 5 });
    expect(state.delivered).toBe(3);
    await loop.stop();
    const before = state.attempts.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.attempts).toHaveLength(before);
  });

  it("follows the server's suggested interval when none is configured, and jitters it", async () => {
    vi.useFakeTimers({ now: 0 });
    const draws = [0, 0.999999, 0.25];
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.5);
    const { loop, state } = harness({ pollMs: undefined, backoffMaxMs: 300_000, suggestedMs: 5000 });
    state.down = false;
    loop.start(true);
    await vi.advanceTimersByTimeAsync(4000 + 6000 + 4500 + 5000);
    // 0.8x, 1.2x, 0.9x, then 1.0x of the server's 5000 ms.
    expect(gaps(state.attempts)).toEqual([4000, 6000, 4500, 5000]);
    await loop.stop();
  });
});
