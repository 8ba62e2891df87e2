import { describe, expect, it } from 'vitest';
import { failures, formatSummary } from './report';
import { summarize, type PathResult, type TestResult } from './runner';
import type { SuiteRun } from './run-suite';
import type { PathId } from './paths';

// The verdict CI acts on (`npm run conformance -- --strict` in .ci/run), on hand-made results.

const pass: PathResult = { outcome: 'pass', ms: 10 };
const fail = (reason: string): PathResult => ({ outcome: 'fail', category: 'wrong-result', reason, ms: 20 });
const ALL: PathId[] = ['ort-node', 'ort-web', 'lepton-server', 'lepton-browser'];

function run(results: TestResult[], ids: PathId[] = ALL, skippedPaths: SuiteRun['skippedPaths'] = []): SuiteRun {
  const seconds = Object.fromEntries(ids.map((id) => [id, { start: id === 'lepton-browser' ? 12.5 : 0, tests: results.reduce((s, r) => s + (r.paths[id]?.ms ?? 0), 0) / 1000 }]));
  return { results, summary: summarize(results, ids), skippedPaths, seconds };
}

const same = (name: string): TestResult => ({ suite: 'node', name, paths: { 'ort-node': pass, 'ort-web': pass, 'lepton-server': pass, 'lepton-browser': pass } });

describe('conformance verdict', () => {
  it('passes when each Lepton path passes what its raw runtime passes', () => {
    const r = run([same('test_a'), { suite: 'node', name: 'test_b', paths: { 'ort-node': fail('x'), 'ort-web': pass, 'lepton-server': fail('x'), 'lepton-browser': pass } }]);
    expect(failures(r, { strict: true, requested: ALL })).toEqual([]);
    expect(r.summary.byPath['ort-node']).toEqual({ pass: 1, fail: 1, skip: 0 });
  });

  it('fails, naming the path and the count, when Lepton loses a test raw onnxruntime passes', () => {
    const lost: TestResult = { suite: 'simple', name: 'test_c', paths: { 'ort-node': pass, 'ort-web': pass, 'lepton-server': pass, 'lepton-browser': fail('y') } };
    const r = run([same('test_a'), lost]);
    expect(r.summary.lost).toEqual([
      { path: 'lepton-server', against: 'ort-node', tests: [] },
      { path: 'lepton-browser', against: 'ort-web', tests: ['simple/test_c'] },
    ]);
    expect(failures(r, { strict: false, requested: ALL })).toEqual(['lepton-browser lost 1 test(s) ort-web passes']);
    expect(formatSummary(r, 3, 'report.json')).toContain('lost by lepton-browser vs ort-web: 1 (simple/test_c)');
  });

  it('strict: a path that did not start, or no tests at all, fails instead of comparing nothing', () => {
    const ids: PathId[] = ['ort-node', 'ort-web', 'lepton-server'];
    const r = run([same('test_a')], ids, [{ path: 'lepton-browser', reason: 'no Chromium at /usr/bin/chromium' }]);
    expect(failures(r, { strict: false, requested: ALL })).toEqual([]);
    expect(failures(r, { strict: true, requested: ALL })).toEqual(['path lepton-browser did not start: no Chromium at /usr/bin/chromium']);
    expect(failures(run([]), { strict: true, requested: ALL })).toEqual(['no tests ran (is Debian libonnx-testdata installed at /usr/share/libonnx-testdata?)']);
  });

  it('holds lepton-browser-webgpu to ort-web-webgpu, and lists where WebGPU and WASM differ', () => {
    const ids: PathId[] = ['ort-web', 'ort-web-webgpu', 'lepton-browser', 'lepton-browser-webgpu'];
    const gpu = (o: PathResult, l: PathResult): TestResult => ({ suite: 'node', name: 'test_d', paths: { 'ort-web': pass, 'ort-web-webgpu': o, 'lepton-browser': pass, 'lepton-browser-webgpu': l } });
    const lost = run([gpu(pass, fail('z'))], ids);
    expect(lost.summary.lost).toEqual([
      { path: 'lepton-browser', against: 'ort-web', tests: [] },
      { path: 'lepton-browser-webgpu', against: 'ort-web-webgpu', tests: ['node/test_d'] },
    ]);
    expect(failures(lost, { strict: false, requested: ids })).toEqual(['lepton-browser-webgpu lost 1 test(s) ort-web-webgpu passes']);
    expect(formatSummary(lost, 3, 'report.json')).toContain('lost by lepton-browser-webgpu vs ort-web-webgpu: 1 (node/test_d)');
    // Both fail on WebGPU where WASM passes: not a verdict against Lepton, but listed per backend.
    const both = run([gpu(fail('w'), fail('w'))], ids);
    expect(failures(both, { strict: true, requested: ids })).toEqual([]);
    expect(both.summary.backends).toEqual([
      { path: 'ort-web-webgpu', against: 'ort-web', tests: ['node/test_d'] },
      { path: 'lepton-browser-webgpu', against: 'lepton-browser', tests: ['node/test_d'] },
    ]);
    expect(formatSummary(both, 3, 'report.json')).toContain('outcome differs, ort-web-webgpu vs ort-web: 1 (node/test_d)');
  });

  it('prints per-suite pass counts and where the time went', () => {
    const text = formatSummary(run([same('test_a'), same('test_b')]), 20, 'report.json');
    expect(text).toContain('node                  2 tests  pass: ort-node 2  ort-web 2  lepton-server 2  lepton-browser 2');
    expect(text).toContain('time per path: ort-node 0.0 s, ort-web 0.0 s, lepton-server 0.0 s, lepton-browser 0.0 s (+12.5 s start)');
  });
});
