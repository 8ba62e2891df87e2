import * as ort from 'onnxruntime-node';
import type { VariantSessionOptions } from '@lepton/contracts';
import { sessionOptionsOf, type CreateRunner } from '@lepton/onnx';

/** onnxruntime-node options for what a model records or requires (only the fields given; the rest ort's defaults). */
export function ortSessionOptions(options: VariantSessionOptions | undefined): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {};
  if (!options) return o;
  if (options.graphOptimizationLevel !== undefined) o.graphOptimizationLevel = options.graphOptimizationLevel;
  if (options.intraOpNumThreads !== undefined) o.intraOpNumThreads = options.intraOpNumThreads;
  if (options.interOpNumThreads !== undefined) o.interOpNumThreads = options.interOpNumThreads;
  if (options.executionMode !== undefined) o.executionMode = options.executionMode;
  return o;
}

/**
 * Sessions for `lepton eval` and int8-static calibration: each model runs with the options it records in its
 * `lepton.session_options` metadata, else those its graph requires (@lepton/onnx sessionOptionsOf), so an int8
 * model with DequantizeLinear -> MatMul is measured at 'basic', as every platform runs it.
 */
export const nodeRunner: CreateRunner = async (bytes) => (await ort.InferenceSession.create(bytes, ortSessionOptions(sessionOptionsOf(bytes)))) as never;

/** How a report line names the options: `graphOptimizationLevel basic`, or `onnxruntime defaults`. */
export function describeSessionOptions(options: VariantSessionOptions | undefined): string {
  const fields = Object.entries(options ?? {}).filter(([, v]) => v !== undefined);
  return fields.length ? fields.map(([k, v]) => `${k} ${String(v)}`).join(', ') : 'onnxruntime defaults';
}

/** The line quantize/convert/prune print about the session options their output needs. */
export function sessionLine(options: VariantSessionOptions | null | undefined): string {
  return options
    ? `sessions: ${describeSessionOptions(options)} (recorded in lepton.session_options; every platform must use it for the same numbers)`
    : 'sessions: no options required (no lepton.session_options recorded)';
}
