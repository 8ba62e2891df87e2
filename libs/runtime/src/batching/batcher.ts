import { LeptonError } from '@lepton/tensor-core';
import type { Batching } from '@lepton/contracts';
import type { Feeds } from '../feeds';
import { systemClock, type BatchClock } from './clock';
import { concatRows, splitRows } from './rows';

/** One run on one worker, reported after it finished (metrics: batching ratio, queue and compute time). */
export interface BatchExecution {
  /** Requests answered by this run (1 when unbatched). */
  requests: number;
  /** Rows (sum of dim 0) fed to the model. */
  rows: number;
  /** Per request: time from submit to the start of the run. */
  queueMs: number[];
  computeMs: number;
  ok: boolean;
  worker: number;
}

export interface BatcherOptions {
  config: Batching;
  /** Sessions (or threads) that run at the same time; each runs one batch at a time. */
  workers: number;
  execute(feeds: Feeds, worker: number): Promise<Feeds>;
  /** Requests with the same key may share a run; undefined runs the request alone. */
  keyOf(feeds: Feeds): string | undefined;
  rowsOf(feeds: Feeds): number;
  /** For messages: "model@version". */
  label: string;
  onExecute?(e: BatchExecution): void;
  clock?: BatchClock;
  /**
   * Schedules a callback after the I/O already waiting is handled (Node: setImmediate). Given, a submit does not
   * dispatch at once: every request that arrives in the same event-loop turn joins one batch, at no added delay
   * beyond that turn. Absent, a free worker takes a request the moment it is submitted.
   */
  defer?(fn: () => void): void;
}

interface Item {
  feeds: Feeds;
  key: string | undefined;
  rows: number;
  enqueued: number;
  resolve(out: Feeds): void;
  reject(err: unknown): void;
  timeout: unknown;
}

/**
 * A bounded queue in front of a fixed set of workers. A free worker takes the oldest request and every queued
 * request with the same key that fits in maxBatchSize rows; it waits up to maxQueueDelayMs for more unless the
 * batch is full or has a preferred size. While all workers are busy the queue fills by itself, so batches grow
 * exactly when the load needs them. A full queue answers QUEUE_FULL at once rather than holding more memory.
 */
export class DynamicBatcher {
  private readonly queue: Item[] = [];
  private readonly free: number[];
  private readonly clock: BatchClock;
  private delayTimer: unknown;
  private running = 0;
  private closed = false;
  private deferred = false;

  constructor(private readonly opts: BatcherOptions) {
    this.clock = opts.clock ?? systemClock();
    this.free = Array.from({ length: Math.max(1, opts.workers) }, (_, i) => i).reverse();
  }

  /** Requests queued or running. */
  get pending(): number {
    return this.queue.length + this.running;
  }

  submit(feeds: Feeds): Promise<Feeds> {
    const { config, label } = this.opts;
    if (this.closed) return Promise.reject(new LeptonError('INFERENCE_FAILED', `model ${label} is shutting down`));
    if (this.queue.length >= config.maxQueueSize) {
      return Promise.reject(
        new LeptonError('QUEUE_FULL', `model ${label} has ${this.queue.length} requests queued, its maxQueueSize; retry later`, {
          queued: this.queue.length,
          maxQueueSize: config.maxQueueSize,
          retryAfterSec: 1,
        }),
      );
    }
    return new Promise<Feeds>((resolve, reject) => {
      const key = this.opts.keyOf(feeds);
      const item: Item = { feeds, key, rows: this.opts.rowsOf(feeds), enqueued: this.clock.now(), resolve, reject, timeout: undefined };
      if (config.timeoutMs > 0) {
        item.timeout = this.clock.setTimer(() => this.expire(item), config.timeoutMs);
      }
      this.queue.push(item);
      if (!this.opts.defer) this.pump();
      else if (!this.deferred) {
        this.deferred = true;
        this.opts.defer(() => {
          this.deferred = false;
          this.pump();
        });
      }
    });
  }

  /** Reject everything still queued; runs in progress finish. */
  close(): void {
    this.closed = true;
    if (this.delayTimer !== undefined) this.clock.clearTimer(this.delayTimer);
    for (const item of this.queue.splice(0)) {
      if (item.timeout !== undefined) this.clock.clearTimer(item.timeout);
      item.reject(new LeptonError('INFERENCE_FAILED', `model ${this.opts.label} is shutting down`));
    }
  }

  private expire(item: Item): void {
    const i = this.queue.indexOf(item);
    if (i < 0) return;
    this.queue.splice(i, 1);
    const ms = this.opts.config.timeoutMs;
    item.reject(
      new LeptonError('QUEUE_TIMEOUT', `request to model ${this.opts.label} waited ${ms} ms in the queue (timeoutMs) without a free session`, {
        timeoutMs: ms,
        retryAfterSec: 1,
      }),
    );
  }

  private pump(): void {
    if (this.delayTimer !== undefined) {
      this.clock.clearTimer(this.delayTimer);
      this.delayTimer = undefined;
    }
    while (this.free.length > 0 && this.queue.length > 0) {
      const chosen = this.choose();
      if (chosen === undefined) return;
      const taken = new Set(chosen);
      for (let i = this.queue.length - 1; i >= 0; i--) if (taken.has(this.queue[i]!)) this.queue.splice(i, 1);
      for (const item of chosen) if (item.timeout !== undefined) this.clock.clearTimer(item.timeout);
      void this.run(chosen, this.free.pop()!);
    }
  }

  /** The next batch to run now, or undefined after arming the delay timer (the head is waiting for company). */
  private choose(): Item[] | undefined {
    const { maxBatchSize, maxQueueDelayMs, preferredBatchSizes } = this.opts.config;
    const head = this.queue[0]!;
    if (head.key === undefined || maxBatchSize <= 1 || head.rows >= maxBatchSize) return [head];
    const chosen: Item[] = [];
    let rows = 0;
    for (const item of this.queue) {
      if (item.key !== head.key || rows + item.rows > maxBatchSize) continue;
      chosen.push(item);
      rows += item.rows;
      if (rows === maxBatchSize) return chosen;
    }
    const waited = this.clock.now() - head.enqueued;
    if (maxQueueDelayMs <= 0 || waited >= maxQueueDelayMs) return chosen;
    let preferred = 0;
    for (const p of preferredBatchSizes) if (p <= rows && p > preferred) preferred = p;
    if (preferred > 0) {
      const trimmed: Item[] = [];
      let n = 0;
      for (const item of chosen) {
        if (n + item.rows > preferred) break;
        trimmed.push(item);
        n += item.rows;
      }
      return trimmed;
    }
    this.delayTimer = this.clock.setTimer(() => {
      this.delayTimer = undefined;
      this.pump();
    }, maxQueueDelayMs - waited);
    return undefined;
  }

  private async run(items: Item[], worker: number): Promise<void> {
    this.running += items.length;
    const start = this.clock.now();
    const queueMs = items.map((i) => start - i.enqueued);
    const rows = items.reduce((a, i) => a + i.rows, 0);
    let ok = true;
    try {
      if (items.length === 1) {
        items[0]!.resolve(await this.opts.execute(items[0]!.feeds, worker));
      } else {
        ok = await this.runBatch(items, worker);
      }
    } catch (err) {
      ok = false;
      items[0]!.reject(err);
    } finally {
      this.running -= items.length;
      this.opts.onExecute?.({ requests: items.length, rows, queueMs, computeMs: this.clock.now() - start, ok, worker });
      this.free.push(worker);
      this.pump();
    }
  }

  /**
   * Concatenate, run once, split. If the batched run fails or its outputs cannot be split by rows, each request
   * runs alone on the same worker, so every caller gets its own answer or its own error.
   */
  private async runBatch(items: Item[], worker: number): Promise<boolean> {
    let parts: Feeds[] | undefined;
    try {
      const feeds: Feeds = {};
      for (const name of Object.keys(items[0]!.feeds)) feeds[name] = concatRows(items.map((i) => i.feeds[name]!));
      const out = await this.opts.execute(feeds, worker);
      const counts = items.map((i) => i.rows);
      parts = items.map(() => ({}));
      for (const [name, t] of Object.entries(out)) {
        const split = splitRows(name, t, counts);
        split.forEach((s, k) => (parts![k]![name] = s));
      }
    } catch {
      parts = undefined;
    }
    if (parts) {
      items.forEach((item, k) => item.resolve(parts![k]!));
      return true;
    }
    for (const item of items) {
      try {
        item.resolve(await this.opts.execute(item.feeds, worker));
      } catch (err) {
        item.reject(err);
      }
    }
    return false;
  }
}
