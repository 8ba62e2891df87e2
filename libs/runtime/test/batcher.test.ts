import { describe, expect, it } from 'vitest';
import { LeptonError, type Tensor } from '@lepton/tensor-core';
import { DynamicBatcher, type BatchClock, type BatchExecution, type BatcherOptions, type Feeds } from '../src';
import { BatchingSchema, type Batching } from '@lepton/contracts';

/**
 * The batcher's scheduling rules on a manual clock, so "waits for the delay" and "times out" are exact steps
 * rather than sleeps. The model is a pure function (y = x + 1 per element) that records every run; batching on
 * real onnxruntime sessions is covered in libs/node-platform/test/batching.test.ts.
 */
class ManualClock implements BatchClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Move time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

const rowsOf = (f: Feeds) => f['x']!.shape[0]!;
const req = (values: number[], width = 1): Feeds => ({
  x: { dtype: 'float32', shape: [values.length / width, width], data: Float32Array.from(values) },
});
const valuesOf = (t: Tensor) => Array.from(t.data as Float32Array);

interface Harness {
  batcher: DynamicBatcher;
  clock: ManualClock;
  /** Rows fed to each run, in order. */
  runs: number[];
  executions: BatchExecution[];
  /** When set, runs wait for this promise (a busy session). */
  gate?: Promise<void>;
}

function harness(config: Partial<Batching>, workers = 1, extra: Partial<BatcherOptions> = {}): Harness {
  const clock = new ManualClock();
  const h: Harness = { batcher: undefined as unknown as DynamicBatcher, clock, runs: [], executions: [] };
  h.batcher = new DynamicBatcher({
    config: BatchingSchema.parse(config),
    workers,
    label: 'test@1',
    clock,
    async execute(feeds) {
      h.runs.push(rowsOf(feeds));
      if (h.gate) await h.gate;
      const x = feeds['x']!;
      return { y: { dtype: 'float32', shape: [...x.shape], data: (x.data as Float32Array).map((v) => v + 1) } };
    },
    keyOf: (f) => `float32:${f['x']!.shape.slice(1).join('x')}`,
    rowsOf,
    onExecute: (e) => h.executions.push(e),
    ...extra,
  });
  return h;
}

describe('DynamicBatcher scheduling (manual clock)', () => {
  it('holds the oldest request up to maxQueueDelayMs for company, then runs one batch', async () => {
    const h = harness({ maxBatchSize: 8, maxQueueDelayMs: 5 });
    const a = h.batcher.submit(req([1]));
    await h.clock.advance(3);
    expect(h.runs).toEqual([]);
    const b = h.batcher.submit(req([2]));
    await h.clock.advance(1.9);
    expect(h.runs).toEqual([]);
    await h.clock.advance(0.1);
    expect(h.runs).toEqual([2]);
    expect(valuesOf((await a)['y']!)).toEqual([2]);
    expect(valuesOf((await b)['y']!)).toEqual([3]);
    // Queue time is measured from each request's own arrival: 5 ms and 2 ms.
    expect(h.executions.map((e) => e.queueMs.map((q) => Math.round(q * 10) / 10))).toEqual([[5, 2]]);
  });

  it('with defer, the requests submitted in one turn share one run even with two free workers and no delay', async () => {
    const deferred: (() => void)[] = [];
    const h = harness({ maxBatchSize: 8 }, 2, { defer: (fn) => deferred.push(fn) });
    const parts = [h.batcher.submit(req([1])), h.batcher.submit(req([2])), h.batcher.submit(req([3]))];
    // Nothing runs until the deferred pump; one pump is scheduled per turn, not one per request.
    expect(h.runs).toEqual([]);
    expect(deferred).toHaveLength(1);
    deferred.shift()!();
    expect(h.runs).toEqual([3]);
    expect((await Promise.all(parts)).map((o) => valuesOf(o['y']!))).toEqual([[2], [3], [4]]);
    // A later turn schedules its own pump.
    const late = h.batcher.submit(req([9]));
    expect(deferred).toHaveLength(1);
    deferred.shift()!();
    expect(valuesOf((await late)['y']!)).toEqual([10]);
    expect(h.runs).toEqual([3, 1]);
  });

  it('without defer, two free workers take the first two requests one by one', async () => {
    const h = harness({ maxBatchSize: 8 }, 2);
    const parts = [h.batcher.submit(req([1])), h.batcher.submit(req([2])), h.batcher.submit(req([3]))];
    await Promise.all(parts);
    expect(h.runs).toEqual([1, 1, 1]);
  });

  it('runs at once, without waiting for the delay, when the batch reaches maxBatchSize rows', async () => {
    const h = harness({ maxBatchSize: 4, maxQueueDelayMs: 1000 });
    const parts = [h.batcher.submit(req([1, 2], 1)), h.batcher.submit(req([3]))];
    await settle();
    expect(h.runs).toEqual([]);
    parts.push(h.batcher.submit(req([4])));
    await settle();
    expect(h.runs).toEqual([4]);
    expect((await Promise.all(parts)).map((o) => valuesOf(o['y']!))).toEqual([[2, 3], [4], [5]]);
  });

  it('dispatches a preferred batch size at once and keeps the rest waiting for the delay', async () => {
    const h = harness({ maxBatchSize: 16, maxQueueDelayMs: 50, preferredBatchSizes: [3] });
    const first = [1, 2].map((v) => h.batcher.submit(req([v])));
    await settle();
    expect(h.runs).toEqual([]);
    first.push(h.batcher.submit(req([3])));
    await settle();
    expect(h.runs).toEqual([3]);
    const late = h.batcher.submit(req([9]));
    await h.clock.advance(49);
    expect(h.runs).toEqual([3]);
    await h.clock.advance(1);
    expect(h.runs).toEqual([3, 1]);
    expect((await Promise.all(first)).map((o) => valuesOf(o['y']!))).toEqual([[2], [3], [4]]);
    expect(valuesOf((await late)['y']!)).toEqual([10]);
  });

  it('never stacks requests whose trailing dims differ', async () => {
    const h = harness({ maxBatchSize: 8, maxQueueDelayMs: 0 }, 1);
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    const busy = h.batcher.submit(req([0]));
    await settle();
    const narrow = [h.batcher.submit(req([1])), h.batcher.submit(req([2]))];
    const wide = h.batcher.submit(req([5, 6], 2));
    open();
    await Promise.all([busy, ...narrow, wide]);
    // The busy run, then the two [n, 1] requests together, then the [1, 2] request alone.
    expect(h.runs).toEqual([1, 2, 1]);
    expect(valuesOf((await wide)['y']!)).toEqual([6, 7]);
  });

  it('answers QUEUE_TIMEOUT (with a retry hint) for a request still queued after timeoutMs', async () => {
    const h = harness({ maxBatchSize: 1, timeoutMs: 100 });
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    const running = h.batcher.submit(req([1]));
    await settle();
    const queued = h.batcher.submit(req([2]));
    const outcome = queued.then(
      () => 'answered',
      (e: unknown) => e,
    );
    await h.clock.advance(99);
    expect(h.batcher.pending).toBe(2);
    await h.clock.advance(1);
    const err = (await outcome) as LeptonError;
    expect(err).toBeInstanceOf(LeptonError);
    expect(err.code).toBe('QUEUE_TIMEOUT');
    expect(err.message).toMatch(/waited 100 ms in the queue/);
    expect(err.details).toEqual({ timeoutMs: 100, retryAfterSec: 1 });
    expect(h.batcher.pending).toBe(1);
    open();
    expect(valuesOf((await running)['y']!)).toEqual([2]);
    // The expired request never ran.
    expect(h.runs).toEqual([1]);
  });

  it('refuses with QUEUE_FULL at maxQueueSize instead of growing, and serves the queue afterwards', async () => {
    const h = harness({ maxBatchSize: 1, maxQueueSize: 2 });
    let open!: () => void;
    h.gate = new Promise((r) => (open = r));
    const accepted = [h.batcher.submit(req([1]))];
    await settle();
    accepted.push(h.batcher.submit(req([2])), h.batcher.submit(req([3])));
    const refused = await h.batcher.submit(req([4])).catch((e: unknown) => e as LeptonError);
    expect(refused).toBeInstanceOf(LeptonError);
    expect((refused as LeptonError).code).toBe('QUEUE_FULL');
    expect((refused as LeptonError).message).toBe('model test@1 has 2 requests queued, its maxQueueSize; retry later');
    open();
    expect((await Promise.all(accepted)).map((o) => valuesOf(o['y']!))).toEqual([[2], [3], [4]]);
  });

  it('runs each request alone when the batched output cannot be split by rows', async () => {
    const clock = new ManualClock();
    const runs: number[] = [];
    const batcher = new DynamicBatcher({
      config: BatchingSchema.parse({ maxBatchSize: 8, maxQueueDelayMs: 1 }),
      workers: 1,
      label: 'sum@1',
      clock,
      // A model that reduces over the batch (sum of every element): batched, its output has 1 row, not 2.
      async execute(feeds) {
        const x = feeds['x']!;
        runs.push(x.shape[0]!);
        return { s: { dtype: 'float32', shape: [1], data: Float32Array.of((x.data as Float32Array).reduce((a, b) => a + b, 0)) } };
      },
      keyOf: () => 'k',
      rowsOf,
    });
    const a = batcher.submit(req([1]));
    const b = batcher.submit(req([10]));
    await clock.advance(1);
    expect(valuesOf((await a)['s']!)).toEqual([1]);
    expect(valuesOf((await b)['s']!)).toEqual([10]);
    expect(runs).toEqual([2, 1, 1]);
  });
});
