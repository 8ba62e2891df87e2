import { performance } from 'node:perf_hooks';
import type { PathId, PathRunner } from './paths';
import { runTest, summarize, type Summary, type TestResult } from './runner';
import type { TestRef } from './suite';

export interface SuiteRun {
  results: TestResult[];
  summary: Summary;
  /** Paths that could not start at all (e.g. no Chromium), with the reason; their tests are not counted. */
  skippedPaths: { path: string; reason: string }[];
  /** Seconds each path spent, starting (building the web app, a server, Chromium) and running the tests. */
  seconds: Partial<Record<PathId, { start: number; tests: number }>>;
  /** What each path that says so found at start (e.g. its WebGPU adapter). */
  runtimes?: Partial<Record<PathId, string>>;
}

/** Run tests one after another on every path (one core's worth of work: the machine is shared). */
export async function runSuite(
  tests: readonly TestRef[],
  paths: readonly PathRunner[],
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<SuiteRun> {
  const results: TestResult[] = [];
  const skippedPaths: SuiteRun['skippedPaths'] = [];
  const live: PathRunner[] = [];
  const seconds: SuiteRun['seconds'] = {};
  for (const p of paths) {
    const t0 = performance.now();
    try {
      await p.start?.();
      live.push(p);
      seconds[p.id] = { start: (performance.now() - t0) / 1000, tests: 0 };
    } catch (e) {
      skippedPaths.push({ path: p.id, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  try {
    for (const ref of tests) {
      const result = await runTest(ref, live);
      for (const [id, r] of Object.entries(result.paths)) seconds[id as PathId]!.tests += r.ms / 1000;
      results.push(result);
      opts.onProgress?.(results.length, tests.length);
    }
  } finally {
    for (const p of live) await p.close?.().catch(() => undefined);
  }
  const runtimes: SuiteRun['runtimes'] = {};
  for (const p of live) if (p.runtime) runtimes[p.id] = p.runtime;
  return { results, summary: summarize(results, live.map((p) => p.id)), skippedPaths, seconds, runtimes };
}
