import type { KserveModelMetadata, ModelRecord, TensorSpec } from '@lepton/contracts';
import { kserveDatatypeOf } from '@lepton/contracts';

/** What GET /v2 answers: who we are and which protocol extensions we speak. */
export const KSERVE_SERVER_METADATA = Object.freeze({
  name: 'lepton',
  version: '0.1.0',
  extensions: ['binary_tensor_data'],
});

const tensor = (s: TensorSpec) => ({
  name: s.name,
  datatype: kserveDatatypeOf(s.dtype),
  // Symbolic dims (a batch, a length) are -1, as the protocol writes variable-size dims.
  shape: s.shape.map((d) => (typeof d === 'number' ? d : -1)),
});

/**
 * Model metadata in the protocol's shape. Inputs the server always feeds itself (manifest constants, e.g.
 * Silero's `sr`) are left out: a client generating inputs from this metadata (perf_analyzer) must not send them.
 */
export function kserveModelMetadata(record: ModelRecord, versions: string[]): KserveModelMetadata {
  const constants = new Set(record.manifest.constants.map((c) => c.input));
  return {
    name: record.id,
    versions,
    platform: 'onnxruntime_onnx',
    inputs: record.manifest.inputs.filter((s) => !constants.has(s.name)).map(tensor),
    outputs: record.manifest.outputs.map(tensor),
  };
}
