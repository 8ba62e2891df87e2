import { LeptonError } from '@lepton/tensor-core';
import { allGraphs } from './graph';
import { int64, type ModelProto } from './proto/types';

/**
 * Ops of the default domain whose inputs or attributes changed meaning at the given opset version. Raising a
 * model's opset past one of these without rewriting the node would change what it computes, so the passes only
 * raise the opset when no such op is present.
 */
const BREAKING_AT: Record<string, number[]> = {
  Softmax: [13],
  LogSoftmax: [13],
  Hardmax: [13],
  Squeeze: [13],
  Unsqueeze: [13],
  ReduceSum: [13],
  Split: [13, 18],
  Pad: [11],
  Clip: [11],
  Resize: [11],
  Upsample: [10],
  Slice: [10],
  TopK: [10],
  Dropout: [12],
  Scatter: [11],
  BatchNormalization: [9, 14],
  ReduceMean: [18],
  ReduceMax: [18],
  ReduceMin: [18],
  ReduceProd: [18],
};

/** The model's version of the default ONNX domain (or 1 when absent, as ONNX assumes). */
export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  return entry ? int64(entry.version) : 1;
}

/** Whether the model could be raised to `target` without changing any node's meaning; lists the blockers. */
export function opsetBlockers(model: ModelProto, target: number): string[] {
  const from = defaultOpset(model);
  if (from >= target) return [];
  const blockers = new Set<string>();
  for (const { graph } of allGraphs(model.graph!)) {
    for (const node of graph.node) {
      if ((node.domain ?? '') !== '') continue;
      const changes = BREAKING_AT[node.opType ?? ''];
      if (changes?.some((v) => v > from && v <= target)) blockers.add(node.opType!);
    }
  }
  return [...blockers].sort();
}

/**
 * Raise the default-domain opset to at least `target` (and the IR version to what that opset needs). Throws
 * NOT_IMPLEMENTED naming the ops that would change meaning.
 */
export function requireOpset(model: ModelProto, target: number, why: string): void {
  const from = defaultOpset(model);
  if (from >= target) return;
  const blockers = opsetBlockers(model, target);
  if (blockers.length > 0) {
    throw new LeptonError(
      'NOT_IMPLEMENTED',
      `${why} needs opset ${target}, but the model is opset ${from} and uses ${blockers.join(', ')}, whose meaning changed before ${target}; convert the model to opset ${target} first`,
      { opset: from, target, blockers },
    );
  }
  const entry = model.opsetImport.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = target;
  else model.opsetImport.push({ domain: '', version: target });
  // IR 7 came with opset 12/13, IR 5 with opset 10 (onnx/helper.py VERSION_TABLE).
  const ir = target >= 12 ? 7 : target >= 10 ? 5 : 4;
  if (int64(model.irVersion) < ir) model.irVersion = ir;
}

/**
 * Before IR 4 every initializer had to be listed as a graph input too; from IR 4 on, listing one makes it an input
 * callers may override. Passes add and remove initializers, so they first move such a model to IR 4 and drop
 * those listings: the weights stay constants, as the exporter meant, and nothing else changes.
 */
export function liftLegacyIr(model: ModelProto): void {
  if (int64(model.irVersion) >= 4) return;
  model.irVersion = 4;
  for (const { graph } of allGraphs(model.graph!)) {
    const inits = new Set(graph.initializer.map((t) => t.name ?? ''));
    graph.input = graph.input.filter((v) => !inits.has(v.name ?? ''));
  }
}
