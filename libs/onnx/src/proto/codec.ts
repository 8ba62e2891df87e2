import protobuf from 'protobufjs';
import { LeptonError } from '@lepton/tensor-core';
import { ONNX_PROTO } from './schema';
import type { GraphProto, ModelProto } from './types';

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
  // protobufjs grows its buffer by doubling and copies the result out at the end: for a model of mostly tensor
  // bytes that is up to 4x the model in flight. Reserving the tensor bytes up front and taking the written bytes
  // as a view (finish(true)) keeps it to the model plus a little slack.
  const writer = protobuf.Writer.create() as protobuf.Writer & { _reserve?: (n: number) => void };
  const estimate = tensorBytes(m);
  if (estimate > 1 << 16) writer._reserve?.(estimate + (estimate >> 6) + (1 << 16));
  const out = model().encode(m as unknown as Record<string, unknown>, writer).finish(estimate > 1 << 16);
  const plain = Object.getPrototypeOf(out) === Uint8Array.prototype;
  // A big buffer owns its memory: hand out a plain view. A small one may be a slice of Node's shared pool: copy.
  if (out.byteLength > 1 << 16 || (out.byteOffset === 0 && out.byteLength === out.buffer.byteLength)) {
    return plain ? out : new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  return Uint8Array.prototype.slice.call(out);
}

/** Bytes of raw tensor data in the model (initializers and Constant values of every graph), for sizing. */
function tensorBytes(m: ModelProto): number {
  let total = 0;
  const visit = (g: GraphProto | undefined | null): void => {
    if (!g) return;
    for (const t of g.initializer ?? []) total += t.rawData?.length ?? 0;
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        total += a.t?.rawData?.length ?? 0;
        visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
  };
  visit(m.graph);
  return total;
}
