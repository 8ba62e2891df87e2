import type { SuiteRun } from './run-suite';
import type { Summary, TestResult } from './runner';

const LABELS: Record<string, string> = {
  'ort-node': 'raw onnxruntime-node',
  'ort-web': 'raw onnxruntime-web (wasm)',
  'ort-web-webgpu': 'raw onnxruntime-web (webgpu, in Chromium)',
  'lepton-server': 'Lepton server (wire + infer over HTTP)',
  'lepton-browser': 'Lepton browser (wire + predictor in Chromium)',
  'lepton-browser-webgpu': 'Lepton browser (predictor on webgpu)',
};

/** The human summary `npm run conformance` prints (and CI shows). */
export function formatSummary(run: SuiteRun, seconds: number, reportFile: string): string {
  const { summary, skippedPaths, results } = run;
  const lines: string[] = [];
  lines.push(`ONNX backend conformance (Debian libonnx-testdata), ${summary.total} tests, rtol 1e-3 / atol 1e-7, ${seconds.toFixed(0)} s`);
  for (const suite of [...new Set(results.map((r) => r.suite))]) {
    const rs = results.filter((r) => r.suite === suite);
    const cells = Object.keys(summary.byPath).map((id) => `${id} ${rs.filter((r) => r.paths[id as keyof TestResult['paths']]?.outcome === 'pass').length}`);
    lines.push(`  ${suite.padEnd(18)} ${String(rs.length).padStart(4)} tests  pass: ${cells.join('  ')}`);
  }
  for (const [id, c] of Object.entries(summary.byPath)) {
    const cats = Object.entries(summary.categories[id as keyof Summary['categories']] ?? {})
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(`  ${(LABELS[id] ?? id).padEnd(48)} pass ${String(c.pass).padStart(4)}  fail ${String(c.fail).padStart(3)}  skip ${String(c.skip).padStart(3)}   (${cats})`);
  }
  for (const [id, runtime] of Object.entries(run.runtimes ?? {})) lines.push(`  ${id}: ${runtime}`);
  for (const s of skippedPaths) lines.push(`  ${LABELS[s.path] ?? s.path}: skipped, ${s.reason}`);
  for (const l of summary.lost) {
    lines.push(`  lost by ${l.path} vs ${l.against}: ${l.tests.length}${l.tests.length ? ` (${l.tests.slice(0, 20).join(', ')})` : ''}`);
  }
  for (const g of summary.gained) if (g.tests.length) lines.push(`  passed by ${g.path} but not ${g.against}: ${g.tests.join(', ')}`);
  for (const b of summary.backends ?? []) {
    lines.push(`  outcome differs, ${b.path} vs ${b.against}: ${b.tests.length}${b.tests.length ? ` (${b.tests.slice(0, 20).join(', ')})` : ''}`);
  }
  const time = Object.entries(run.seconds).map(([id, s]) => `${id} ${s.tests.toFixed(1)} s${s.start >= 0.05 ? ` (+${s.start.toFixed(1)} s start)` : ''}`);
  if (time.length) lines.push(`  time per path: ${time.join(', ')}`);
  lines.push(`  per-test results and reasons: ${reportFile}`);
  return lines.join('\n');
}

/**
 * Why the run fails, empty when it passes: a Lepton path lost a test its raw runtime passes, or (strict, as CI
 * runs it) the suite was missing or a path could not start, so nothing was compared.
 */
export function failures(run: SuiteRun, opts: { strict: boolean; requested: readonly string[] }): string[] {
  const out = run.summary.lost.filter((l) => l.tests.length > 0).map((l) => `${l.path} lost ${l.tests.length} test(s) ${l.against} passes`);
  if (opts.strict) {
    if (run.results.length === 0) out.push('no tests ran (is Debian libonnx-testdata installed at /usr/share/libonnx-testdata?)');
    for (const s of run.skippedPaths) out.push(`path ${s.path} did not start: ${s.reason}`);
    for (const id of opts.requested) {
      if (!(id in run.summary.byPath) && !run.skippedPaths.some((s) => s.path === id)) out.push(`path ${id} did not run`);
    }
  }
  return out;
}
