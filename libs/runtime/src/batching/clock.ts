/**
 * Time and timers for the batcher. Every platform we run on has performance.now and setTimeout, but the neutral
 * libraries are compiled without Node or DOM types, so they are reached through globalThis once, here.
 */
export interface BatchClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

interface TimerGlobals {
  performance?: { now(): number };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export function systemClock(): BatchClock {
  const g = globalThis as unknown as TimerGlobals;
  return {
    now: g.performance ? () => g.performance!.now() : () => Date.now(),
    setTimer: (fn, ms) => {
      const h = g.setTimeout(fn, ms) as { unref?: () => void };
      // A pending batch timer must not keep a Node process alive on its own.
      h?.unref?.();
      return h;
    },
    clearTimer: (h) => g.clearTimeout(h),
  };
}
