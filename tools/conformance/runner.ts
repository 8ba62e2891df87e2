import { performance } from 'node:perf_hooks';
import { bitMismatch, mismatch } from './compare';
import type { PathId, PathRunner } from './paths';
import { loadTest, messageOf, type TestRef } from './suite';

export type Outcome = 'pass' | 'fail' | 'skip';

/** Why a test did not pass, in words a reader can act on. */
export type Category =
  | 'non-tensor-io'
  | 'unsupported-dtype'
  | 'unreadable'
  | 'missing-kernel'
  | 'model-load'
  | 'runtime-error'
  | 'tolerance'
  | 'wrong-result'
  | 'missing-output'
  /** A WebGPU path whose page had no adapter (normally the path does not start at all). */
  | 'webgpu-unavailable';

export interface PathResult {
  outcome: Outcome;
  category?: Category;
  reason?: string;
  ms: number;
}

export interface TestResult {
  suite: string;
  name: string;
  paths: Partial<Record<PathId, PathResult>>;
}

/** Sort an onnxruntime/Lepton error message into a category (kernel missing, load failure, dtype...). */
export function categorize(message: string, phase: 'open' | 'run'): Category {
  if (/WEBGPU_UNAVAILABLE/.test(message)) return 'webgpu-unavailable';
  if (/Could not find an implementation|NOT_IMPLEMENTED|not implemented|is not supported|Unsupported op/i.test(message)) return 'missing-kernel';
  if (/MODEL_LOAD_FAILED/.test(message) && !/Unsupported data type/i.test(message)) return 'model-load';
  if (/DTYPE_UNSUPPORTED|unsupported data type|Unsupported type|data type .* is not supported|bfloat16|float8/i.test(message)) return 'unsupported-dtype';
  return phase === 'open' ? 'model-load' : 'runtime-error';
}

/**
 * Run one test on every path. A test passes on a path when every data set's outputs match the references
 * (rtol/atol for floats, exact otherwise); the first failing data set's reason is kept.
 */
export async function runTest(ref: TestRef, paths: readonly PathRunner[]): Promise<TestResult> {
  const result: TestResult = { suite: ref.suite, name: ref.name, paths: {} };
  const loaded = loadTest(ref);
  if (!loaded.ok) {
    for (const p of paths) result.paths[p.id] = { outcome: 'skip', category: loaded.category, reason: loaded.reason, ms: 0 };
    return result;
  }
  const key = `conf-${ref.suite}-${ref.name}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, 120);
  for (const path of paths) {
    const t0 = performance.now();
    const done = (r: Omit<PathResult, 'ms'>): void => {
      result.paths[path.id] = { ...r, ms: Math.round(performance.now() - t0) };
    };
    let session;
    try {
      session = await path.open({ key, model: loaded.model, dataSets: loaded.dataSets });
    } catch (e) {
      const reason = messageOf(e);
      const category = categorize(reason, 'open');
      done({ outcome: category === 'unsupported-dtype' ? 'skip' : 'fail', category, reason: `load: ${reason}` });
      continue;
    }
    let failure: Omit<PathResult, 'ms'> | undefined;
    try {
      for (const set of loaded.dataSets) {
        const names = set.outputs.map((o) => o.name);
        let outputs;
        try {
          outputs = await session.run(set, names);
        } catch (e) {
          const reason = messageOf(e);
          const category = categorize(reason, 'run');
          failure = { outcome: category === 'unsupported-dtype' ? 'skip' : 'fail', category, reason: `${set.name}: ${reason}` };
          break;
        }
        for (const expected of set.outputs) {
          const actual = outputs[expected.name];
          const why = !actual ? `no output '${expected.name}' returned` : ref.bitExact ? bitMismatch(actual, expected.tensor) : mismatch(actual, expected.tensor);
          if (why !== undefined) {
            const category: Category = !actual ? 'missing-output' : /outside rtol/.test(why) ? 'tolerance' : 'wrong-result';
            failure = { outcome: 'fail', category, reason: `${set.name} output '${expected.name}': ${why}` };
            break;
          }
        }
        if (failure) break;
      }
    } finally {
      await session.release().catch(() => undefined);
    }
    done(failure ?? { outcome: 'pass' });
  }
  return result;
}

export interface Summary {
  total: number;
  byPath: Partial<Record<PathId, { pass: number; fail: number; skip: number }>>;
  /** Tests the raw runtime passes but Lepton's path on the same runtime does not: bugs in our layers. */
  lost: { path: PathId; against: PathId; tests: string[] }[];
  /** Tests Lepton passes but the raw runtime fails (should be empty: our layers cannot fix a kernel). */
  gained: { path: PathId; against: PathId; tests: string[] }[];
  categories: Partial<Record<PathId, Partial<Record<Category, number>>>>;
  /** Tests whose outcome differs between a WebGPU path and the same path on WASM (informational, not a verdict). */
  backends: { path: PathId; against: PathId; tests: string[] }[];
}

/** Each Lepton path and the raw runtime it is held to. */
const PAIRS: [PathId, PathId][] = [
  ['lepton-server', 'ort-node'],
  ['lepton-browser', 'ort-web'],
  ['lepton-browser-webgpu', 'ort-web-webgpu'],
];

/** Each WebGPU path and the same path on WASM. */
const BACKEND_PAIRS: [PathId, PathId][] = [
  ['ort-web-webgpu', 'ort-web'],
  ['lepton-browser-webgpu', 'lepton-browser'],
];

export function summarize(results: readonly TestResult[], pathIds: readonly PathId[]): Summary {
  const byPath: Summary['byPath'] = {};
  const categories: Summary['categories'] = {};
  for (const id of pathIds) {
    const counts = { pass: 0, fail: 0, skip: 0 };
    const cats: Partial<Record<Category, number>> = {};
    for (const r of results) {
      const p = r.paths[id];
      if (!p) continue;
      counts[p.outcome]++;
      if (p.category) cats[p.category] = (cats[p.category] ?? 0) + 1;
    }
    byPath[id] = counts;
    categories[id] = cats;
  }
  const lost: Summary['lost'] = [];
  const gained: Summary['gained'] = [];
  for (const [path, against] of PAIRS) {
    if (!pathIds.includes(path) || !pathIds.includes(against)) continue;
    const name = (r: TestResult) => `${r.suite}/${r.name}`;
    lost.push({ path, against, tests: results.filter((r) => r.paths[against]?.outcome === 'pass' && r.paths[path]?.outcome !== 'pass').map(name) });
    gained.push({ path, against, tests: results.filter((r) => r.paths[path]?.outcome === 'pass' && r.paths[against]?.outcome !== 'pass').map(name) });
  }
  const backends: Summary['backends'] = [];
  for (const [path, against] of BACKEND_PAIRS) {
    if (!pathIds.includes(path) || !pathIds.includes(against)) continue;
    backends.push({ path, against, tests: results.filter((r) => r.paths[path]?.outcome !== r.paths[against]?.outcome).map((r) => `${r.suite}/${r.name}`) });
  }
  return { total: results.length, byPath, lost, gained, categories, backends };
}
