import { decodeModel, findWeights, type ModelProto } from '@lepton/onnx';
import type { Variant } from '@lepton/contracts';

/** The passes a job runs; `int8-auto` is resolved by the worker once it has read the model. */
export type PlannedPass = 'fp16' | 'int8-auto';
export type BuildPass = 'fp16' | 'int8-weight' | 'int8-dynamic';

export interface VariantProfile {
  target: 'web' | 'edge';
  pass: PlannedPass;
}

/**
 * What each target gets (README "Variant builds" says why). `server` is not here: the server runs the registered
 * float32 model as it is, so it needs no job.
 * - web: float16 with float32 inputs/outputs. Half the download, outputs within float16 rounding of float32, and it
 *   runs on onnxruntime-web's WASM backend (the pass keeps float32 where kernels need it).
 * - edge: int8. Weight-only QDQ (about a quarter of the bytes, float compute) unless MatMul/Gemm hold most of the
 *   weights, where dynamic quantization also gives integer kernels (transformer-like models).
 */
export const VARIANT_PROFILES: readonly VariantProfile[] = [
  { target: 'web', pass: 'fp16' },
  { target: 'edge', pass: 'int8-auto' },
];

export const PRECISION_OF: Record<BuildPass, Variant['precision']> = {
  fp16: 'fp16',
  'int8-weight': 'int8',
  'int8-dynamic': 'int8',
};

/** Share of float weight bytes read by MatMul/Gemm at or above which the edge profile quantizes dynamically. */
export const DYNAMIC_SHARE = 0.5;

/** Pick the edge pass for a model: int8-dynamic when MatMul/Gemm hold most of its float32 weights. */
export function edgePass(model: ModelProto | Uint8Array): { pass: 'int8-weight' | 'int8-dynamic'; matmulShare: number } {
  const proto = model instanceof Uint8Array ? decodeModel(model) : model;
  let total = 0;
  let matmul = 0;
  for (const w of findWeights(proto)) {
    if (w.tensor.dataType !== 1) continue;
    total += w.bytes;
    if (w.uses.some((u) => u.node.opType === 'MatMul' || u.node.opType === 'Gemm')) matmul += w.bytes;
  }
  const matmulShare = total > 0 ? matmul / total : 0;
  return { pass: matmulShare >= DYNAMIC_SHARE ? 'int8-dynamic' : 'int8-weight', matmulShare };
}

/**
 * The session options a built artifact records (undefined: the manifest's stand), decided from its graph by
 * @lepton/onnx `requiredSessionOptions`, the same function `lepton quantize|eval` use: an artifact with a
 * DequantizeLinear -> MatMul/Gemm pair runs at 'basic' everywhere, the level at which onnxruntime-node and
 * onnxruntime-web compute the same graph; fp16, int8 with only Conv/Gather weights and int8-dynamic (MatMul
 * rewritten to integer kernels) keep the manifest's level.
 */
export { dequantizedMatMuls, requiredSessionOptions as sessionOptionsFor } from '@lepton/onnx';
