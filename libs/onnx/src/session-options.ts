import { VariantSessionOptionsSchema, type VariantSessionOptions } from '@lepton/contracts';
import { LeptonError } from '@lepton/tensor-core';
import { allGraphs } from './graph';
import { decodeModel } from './proto/codec';
import type { ModelProto } from './proto/types';

/** metadata_props key under which a model records the session options it must run with (JSON). */
export const SESSION_OPTIONS_KEY = 'lepton.session_options';

/** Ops that onnxruntime-node (from level 'extended') fuses with a DequantizeLinear feeding them. */
const FUSED_WITH_DEQUANTIZE = new Set(['MatMul', 'Gemm']);

const proto = (model: ModelProto | Uint8Array): ModelProto => (model instanceof Uint8Array ? decodeModel(model) : model);

/**
 * Nodes (graph path / node name) that read a DequantizeLinear output as a MatMul or Gemm input, in any graph.
 * From 'extended' onnxruntime-node 1.30 fuses such a pair into a kernel that also quantizes the activations at
 * run time (README "onnxruntime-node fuses weight DequantizeLinear -> MatMul", test/variants-matrix.test.ts);
 * onnxruntime-web computes DequantizeLinear then MatMul as written, so the same model differs by ~7e-3 between
 * server and browser.
 */
export function dequantizedMatMuls(model: ModelProto | Uint8Array): string[] {
  const scopes = allGraphs(proto(model).graph!);
  const dequantized = new Set<string>();
  for (const s of scopes) for (const n of s.graph.node) if (n.opType === 'DequantizeLinear') for (const o of n.output) dequantized.add(o);
  const out: string[] = [];
  for (const s of scopes) {
    for (const n of s.graph.node) {
      if (FUSED_WITH_DEQUANTIZE.has(n.opType ?? '') && n.input.some((i) => dequantized.has(i))) out.push(`${s.path}/${n.name || n.opType}`);
    }
  }
  return out;
}

/**
 * The session options every platform must use for this model to compute the same numbers (undefined: none are
 * needed, the caller's stand). A model with a DequantizeLinear -> MatMul/Gemm pair runs at 'basic', the level at
 * which onnxruntime-node and onnxruntime-web compute the same graph; fp16, int8 with only Conv/Gather weights
 * and int8-dynamic (which rewrites MatMul to integer kernels itself) need nothing. Decided from the graph alone,
 * so the server's variant builder, `lepton quantize|convert|prune|eval` and calibration agree.
 */
export function requiredSessionOptions(model: ModelProto | Uint8Array): VariantSessionOptions | undefined {
  return dequantizedMatMuls(model).length > 0 ? { graphOptimizationLevel: 'basic' } : undefined;
}

/**
 * The options a model recorded in its `lepton.session_options` metadata, or undefined where it has none.
 * A value that is not JSON session options is a VALIDATION_FAILED error naming the key and the value.
 */
export function recordedSessionOptions(model: ModelProto | Uint8Array): VariantSessionOptions | undefined {
  const entry = proto(model).metadataProps.find((p) => p.key === SESSION_OPTIONS_KEY);
  if (entry?.value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch {
    parsed = undefined;
  }
  const r = VariantSessionOptionsSchema.safeParse(parsed);
  if (!r.success) {
    throw new LeptonError(
      'VALIDATION_FAILED',
      `model metadata ${SESSION_OPTIONS_KEY} is ${JSON.stringify(entry.value)}; expected JSON session options such as {"graphOptimizationLevel":"basic"} (${r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')})`,
      { key: SESSION_OPTIONS_KEY, value: entry.value },
    );
  }
  return r.data;
}

/** The options a session for this model uses: what it recorded, else what its graph requires. */
export function sessionOptionsOf(model: ModelProto | Uint8Array): VariantSessionOptions | undefined {
  const p = proto(model);
  return recordedSessionOptions(p) ?? requiredSessionOptions(p);
}

/**
 * Record in the model's metadata the options its graph requires (requiredSessionOptions), replacing any earlier
 * record (a pass may have added or removed the pattern); with none required the key is removed. Modifies the
 * model; returns the options recorded.
 */
export function stampSessionOptions(model: ModelProto): VariantSessionOptions | undefined {
  const options = requiredSessionOptions(model);
  model.metadataProps = model.metadataProps.filter((p) => p.key !== SESSION_OPTIONS_KEY);
  if (options) model.metadataProps.push({ key: SESSION_OPTIONS_KEY, value: JSON.stringify(options) });
  return options;
}
