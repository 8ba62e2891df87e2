import { isLeptonError } from '@lepton/tensor-core';
import type { DeviceCapabilities } from '@lepton/api';
import type { Upstream } from './upstream';
import type { LocalModels, Log } from './local-models';
import type { Outbox } from './outbox';
import type { ModelCache } from './model-cache';

export interface SyncLoopDeps {
  upstream: Upstream;
  local: LocalModels;
  outbox: Outbox;
  cache: ModelCache;
  log: Log;
  models: readonly string[];
  capabilities: DeviceCapabilities;
  /** Fixed poll interval; undefined: the server's suggestion. */
  pollMs: number | undefined;
  backoffMaxMs: number;
  cacheMaxBytes: number;
}

/** Wait before the next attempt: the interval doubled per consecutive failure (capped), with +-20% jitter. */
export function nextDelay(baseMs: number, failures: number, maxMs: number, random = Math.random()): number {
  const backoff = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  return Math.round(backoff * (0.8 + 0.4 * random));
}

/**
 * The agent's conversation with the server: sync (assignments -> install/rollback), send pending reports,
 * deliver the telemetry outbox, keep the cache bounded. Runs once at start, then on a jittered timer that backs
 * off exponentially while the server is unreachable, so a fleet coming back online does not stampede.
 */
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private failures = 0;
  private suggested = 30_000;

  constructor(private readonly d: SyncLoopDeps) {}

  /** One round; throws UPSTREAM_UNAVAILABLE (or the server's error) when the sync itself failed. */
  async once(opts: { deferUpdates?: boolean } = {}): Promise<void> {
    const { assignments, pollAfterMs } = await this.d.upstream.sync(this.d.capabilities);
    this.suggested = pollAfterMs;
    await this.d.local.apply(assignments, this.d.models, opts);
    await this.flush();
    const removed = await this.d.cache.evict(this.d.cacheMaxBytes, new Set(this.d.models));
    if (removed.length > 0) this.d.log('cache.evicted', { files: removed });
  }

  /** Reports, then telemetry; what fails stays queued for the next round. */
  async flush(): Promise<void> {
    const reports = this.d.local.reports;
    if (reports.length > 0) {
      await this.d.upstream.report(reports);
      this.d.local.reports = this.d.local.reports.filter((r) => !reports.includes(r));
    }
    let stored = 0;
    let duplicates = 0;
    const sent = await this.d.outbox.deliver(async (events) => {
      const r = await this.d.upstream.telemetry(events);
      stored += r.stored;
      duplicates += r.duplicates;
    });
    if (sent > 0) this.d.log('telemetry.delivered', { sent, stored, duplicates });
  }

  /** Start polling; `now`: the first round right away (updates deferred at start-up). */
  start(now = false): void {
    this.schedule(now ? 0 : this.delay());
  }

  private delay(): number {
    return nextDelay(this.d.pollMs ?? this.suggested, this.failures, this.d.backoffMaxMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(this.delay());
      });
    }, ms);
  }

  private async round(): Promise<void> {
    try {
      await this.once();
      if (this.failures > 0) this.d.log('server.reachable', { afterFailures: this.failures });
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      const code = isLeptonError(err) ? err.code : 'INTERNAL';
      this.d.log('sync.failed', { code, message: (err as Error).message, failures: this.failures });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
