import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@lepton/tensor-core';
import { decodeModel, decodeTensorProto, tensorFromProto, type ModelProto } from '@lepton/onnx';
import { valueKind } from '@lepton/api';

/** Debian's libonnx-testdata: ONNX's backend test suite (node, pytorch-converted, pytorch-operator, simple). */
export const TESTDATA_ROOT = '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;
export type SuiteName = (typeof SUITES)[number];

export interface TestRef {
  /** One of SUITES, or 'lepton-edge-values' (edge-values.ts). */
  suite: string;
  name: string;
  dir: string;
  /** Outputs must equal the references bit for bit (NaN payloads, -0), not within the backend-test tolerance. */
  bitExact?: boolean;
}

/** Every test of the chosen suites, in name order (stable, so subsets are reproducible). */
export function listTests(root = TESTDATA_ROOT, suites: readonly SuiteName[] = SUITES): TestRef[] {
  const out: TestRef[] = [];
  for (const suite of suites) {
    const base = join(root, suite);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (existsSync(join(dir, 'model.onnx'))) out.push({ suite, name, dir });
    }
  }
  return out;
}

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

export interface DataSet {
  name: string;
  inputs: NamedTensor[];
  /** Reference outputs in graph output order, named after the graph outputs. */
  outputs: NamedTensor[];
}

/** A test ready to run, or the reason it cannot be run by any JS runtime (same for every path). */
export type LoadedTest =
  | { ok: true; ref: TestRef; model: Uint8Array; inputNames: string[]; outputNames: string[]; dataSets: DataSet[] }
  | { ok: false; ref: TestRef; reason: string; category: SkipCategory };

export type SkipCategory = 'non-tensor-io' | 'unsupported-dtype' | 'unreadable';

/**
 * Read model.onnx and every test_data_set_N. Inputs are matched to graph inputs (initializers excluded) by the
 * TensorProto's name when it has one, else by position, as ONNX's backend runner does. Sequence/map/optional
 * values and dtypes Lepton has no storage for (float8, complex) make the test unrunnable in JS: the reason says which.
 */
export function loadTest(ref: TestRef): LoadedTest {
  const model = new Uint8Array(readFileSync(join(ref.dir, 'model.onnx')));
  let proto: ModelProto;
  try {
    proto = decodeModel(model);
  } catch (e) {
    return { ok: false, ref, reason: `model.onnx does not decode: ${messageOf(e)}`, category: 'unreadable' };
  }
  const graph = proto.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name ?? ''));
  const allInputs = graph.input.map((v) => v.name ?? '');
  const inputNames = allInputs.filter((n) => !initializers.has(n));
  const outputNames = graph.output.map((v) => v.name ?? '');
  for (const [role, list] of [['input', graph.input.filter((v) => !initializers.has(v.name ?? ''))], ['output', graph.output]] as const) {
    for (const v of list) {
      const kind = valueKind(v.type);
      if (kind !== 'tensor') return { ok: false, ref, reason: `${role} '${v.name}' is a ${kind}: onnxruntime's JS API feeds and returns tensors only`, category: 'non-tensor-io' };
    }
  }
  const dataSets: DataSet[] = [];
  const sets = readdirSync(ref.dir).filter((d) => d.startsWith('test_data_set_')).sort();
  for (const set of sets) {
    const dir = join(ref.dir, set);
    const files = readdirSync(dir);
    const count = (prefix: string) => files.filter((f) => f.startsWith(prefix) && f.endsWith('.pb')).length;
    const inputs: NamedTensor[] = [];
    const outputs: NamedTensor[] = [];
    try {
      for (let i = 0; i < count('input_'); i++) {
        const tp = decodeTensorProto(new Uint8Array(readFileSync(join(dir, `input_${i}.pb`))));
        const name = tp.name && allInputs.includes(tp.name) ? tp.name : (inputNames[i] ?? allInputs[i] ?? `input_${i}`);
        inputs.push({ name, tensor: tensorFromProto(tp) });
      }
      for (let i = 0; i < count('output_'); i++) {
        const tp = decodeTensorProto(new Uint8Array(readFileSync(join(dir, `output_${i}.pb`))));
        outputs.push({ name: outputNames[i] ?? `output_${i}`, tensor: tensorFromProto(tp) });
      }
    } catch (e) {
      return { ok: false, ref, reason: `${set}: ${messageOf(e)}`, category: 'unsupported-dtype' };
    }
    dataSets.push({ name: set, inputs, outputs });
  }
  return { ok: true, ref, model, inputNames, outputNames, dataSets };
}

export function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}
