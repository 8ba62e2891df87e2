/**
 * `node --import tsx tools/conformance/run.ts [--paths ort-node,ort-web,lepton-server,lepton-browser
 *   (default; opt-in: ort-web-webgpu,lepton-browser-webgpu)]
 *   [--suites node,simple,...] [--filter REGEX] [--limit N] [--out report.json] [--json] [--strict]`
 *
 * Runs Debian's libonnx-testdata (ONNX backend tests) through raw onnxruntime-node, raw onnxruntime-web (WASM,
 * in Node) and Lepton's own paths, prints a summary (pass/fail/skip per path, tests lost by our layers, failure
 * categories) and writes the full per-test report as JSON. Exit status 1 when Lepton loses a test that raw
 * onnxruntime passes on the same runtime; with --strict (CI) also when the suite is missing or a path cannot start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { failures, formatSummary } from './report';
import { ALL_PATH_IDS, createPaths, PATH_IDS } from './create-paths';
import { EDGE_VALUES_SUITE, writeEdgeValueTests } from './edge-values';
import { runSuite } from './run-suite';
import { listTests, SUITES, type SuiteName } from './suite';
import type { PathId } from './paths';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const pathIds = (arg('paths')?.split(',') ?? PATH_IDS) as PathId[];
  const unknown = pathIds.filter((p) => !ALL_PATH_IDS.includes(p));
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; expected some of ${ALL_PATH_IDS.join(', ')}`);
  const suites = (arg('suites')?.split(',') ?? SUITES) as SuiteName[];
  const filter = arg('filter') ? new RegExp(arg('filter')!) : undefined;
  const strict = process.argv.includes('--strict');
  const suiteTests = listTests(undefined, suites);
  if (suiteTests.length === 0 && suites.some((s) => (SUITES as readonly string[]).includes(s))) {
    console.log('conformance: no tests found (is Debian libonnx-testdata installed at /usr/share/libonnx-testdata?)');
    return strict ? 1 : 0;
  }
  // The edge-value Identity tests (edge-values.ts) run beside the suite unless --suites leaves them out.
  const edgeDir = mkdtempSync(join(tmpdir(), 'lepton-edge-values-'));
  const edge = !arg('suites') || (suites as string[]).includes(EDGE_VALUES_SUITE) ? writeEdgeValueTests(edgeDir) : [];
  let tests = [...suiteTests, ...edge].filter((t) => !filter || filter.test(`${t.suite}/${t.name}`));
  const limit = arg('limit');
  if (limit) tests = tests.slice(0, Number(limit));
  const t0 = performance.now();
  const paths = await createPaths(pathIds);
  const run = await runSuite(tests, paths, {
    onProgress: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total}`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(edgeDir, { recursive: true, force: true });
  const out = arg('out') ?? 'tools/conformance/report.json';
  const { results, summary, skippedPaths } = run;
  const failed = failures(run, { strict, requested: pathIds });
  const runtimes = run.runtimes;
  writeFileSync(out, `${JSON.stringify({ seconds, pathSeconds: run.seconds, runtimes, summary, skippedPaths, failed, results }, null, 1)}\n`);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ seconds, pathSeconds: run.seconds, runtimes, summary, skippedPaths, failed }));
  else console.log(formatSummary(run, seconds, out));
  for (const f of failed) console.log(`conformance FAILED: ${f}`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`conformance failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
