import type { PathRunner } from './paths';
import { runTest, summarize, type Summary, type TestResult } from './runner';
import type { TestRef } from './suite';

export interface SuiteRun {
  results: TestResult[];
  summary: Summary;
  /** Paths that could not start at all (e.g. no Chromium), with the reason; their tests are not counted. */
  skippedPaths: { path: string; reason: string }[];
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
  for (const p of paths) {
    try {
      await p.start?.();
      live.push(p);
    } catch (e) {
      skippedPaths.push({ path: p.id, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  try {
    for (const ref of tests) {
      results.push(await runTest(ref, live));
      opts.onProgress?.(results.length, tests.length);
    }
  } finally {
    for (const p of live) await p.close?.().catch(() => undefined);
  }
  return { results, summary: summarize(results, live.map((p) => p.id)), skippedPaths };
}
