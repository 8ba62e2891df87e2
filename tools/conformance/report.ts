import type { Summary, TestResult } from './runner';

const LABELS: Record<string, string> = {
  'ort-node': 'raw onnxruntime-node',
  'ort-web': 'raw onnxruntime-web (wasm)',
  'lepton-server': 'Lepton server (wire + infer over HTTP)',
  'lepton-browser': 'Lepton browser (wire + predictor in Chromium)',
};

/** The human summary `npm run conformance` prints (and CI shows). */
export function formatSummary(summary: Summary, seconds: number, skippedPaths: { path: string; reason: string }[], results: readonly TestResult[], reportFile: string): string {
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
  for (const s of skippedPaths) lines.push(`  ${LABELS[s.path] ?? s.path}: skipped, ${s.reason}`);
  for (const l of summary.lost) {
    lines.push(`  lost by ${l.path} vs ${l.against}: ${l.tests.length}${l.tests.length ? ` (${l.tests.slice(0, 20).join(', ')})` : ''}`);
  }
  for (const g of summary.gained) if (g.tests.length) lines.push(`  passed by ${g.path} but not ${g.against}: ${g.tests.join(', ')}`);
  lines.push(`  per-test results and reasons: ${reportFile}`);
  return lines.join('\n');
}
