import protobuf from 'protobufjs';
import { LeptonError } from '@lepton/tensor-core';
import { ONNX_PROTO } from './schema';
import type { ModelProto } from './types';

let modelType: protobuf.Type | undefined;

// Parsed on first use, not at import, so importing the library costs nothing for callers that never decode.
function model(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * Decode ONNX model bytes. Tensor `rawData` fields are views on `bytes` (no copy), so keep `bytes` unchanged while
 * the model is in use. Throws MODEL_LOAD_FAILED naming the byte offset when the bytes are not a ModelProto.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) {
    throw new LeptonError('VALIDATION_FAILED', 'model bytes must be a Uint8Array');
  }
  let decoded: ModelProto;
  try {
    // A plain Uint8Array view (not a Node Buffer subclass) so protobufjs hands out plain Uint8Array views.
    const plain = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    decoded = model().decode(plain) as unknown as ModelProto;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LeptonError('MODEL_LOAD_FAILED', `model bytes (${bytes.length} bytes) are not an ONNX ModelProto: ${reason}`);
  }
  if (!decoded.graph) {
    throw new LeptonError('MODEL_LOAD_FAILED', `model bytes (${bytes.length} bytes) decode to a ModelProto without a graph; expected an ONNX model`);
  }
  return decoded;
}

/** Encode a model (decoded or built) to bytes. */
export function encodeModel(m: ModelProto): Uint8Array {
  const out = model().encode(m as unknown as Record<string, unknown>).finish();
  if (Object.getPrototypeOf(out) === Uint8Array.prototype) return out;
  // On Node protobufjs returns a Buffer. A big one owns its memory: hand out a plain view (no copy, which matters
  // for the peak memory of a pass). A small one may be a slice of Node's shared pool: copy it.
  if (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength) return new Uint8Array(out.buffer, 0, out.byteLength);
  return Uint8Array.prototype.slice.call(out);
}
