/**
 * `node --import tsx tools/conformance/run.ts [--paths ort-node,ort-web,lepton-server,lepton-browser]
 *   [--suites node,simple,...] [--filter REGEX] [--limit N] [--out report.json] [--json]`
 *
 * Runs Debian's libonnx-testdata (ONNX backend tests) through raw onnxruntime-node, raw onnxruntime-web (WASM,
 * in Node) and Lepton's own paths, prints a summary (pass/fail/skip per path, tests lost by our layers, failure
 * categories) and writes the full per-test report as JSON. Exit status 1 when Lepton loses a test that raw
 * onnxruntime passes on the same runtime.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { formatSummary } from './report';
import { createPaths, PATH_IDS } from './create-paths';
import { runSuite } from './run-suite';
import { listTests, SUITES, type SuiteName } from './suite';
import type { PathId } from './paths';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const pathIds = (arg('paths')?.split(',') ?? PATH_IDS) as PathId[];
  const unknown = pathIds.filter((p) => !PATH_IDS.includes(p));
  if (unknown.length > 0) throw new Error(`unknown path(s) ${unknown.join(', ')}; expected some of ${PATH_IDS.join(', ')}`);
  const suites = (arg('suites')?.split(',') ?? SUITES) as SuiteName[];
  const filter = arg('filter') ? new RegExp(arg('filter')!) : undefined;
  let tests = listTests(undefined, suites).filter((t) => !filter || filter.test(`${t.suite}/${t.name}`));
  const limit = arg('limit');
  if (limit) tests = tests.slice(0, Number(limit));
  if (tests.length === 0) {
    console.log('conformance: no tests found (is Debian libonnx-testdata installed at /usr/share/libonnx-testdata?)');
    return 0;
  }
  const t0 = performance.now();
  const paths = await createPaths(pathIds);
  const { results, summary, skippedPaths } = await runSuite(tests, paths, {
    onProgress: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total}`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const out = arg('out') ?? 'tools/conformance/report.json';
  writeFileSync(out, `${JSON.stringify({ seconds, summary, skippedPaths, results }, null, 1)}\n`);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ seconds, summary, skippedPaths }));
  else console.log(formatSummary(summary, seconds, skippedPaths, results, out));
  return summary.lost.some((l) => l.tests.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`conformance failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
