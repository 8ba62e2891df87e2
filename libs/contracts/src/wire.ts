import {
  LeptonError,
  allocate,
  byteLengthOf,
  isDType,
  storageLength,
  type DType,
  type NumericDType,
  type Tensor,
  type TensorData,
} from '@lepton/tensor-core';
import { base64DecodedLength, decodeBase64Into, encodeBase64 } from './base64';
import { decodeStringBytes, encodeStringBytes } from './string-bytes';
import { fixByteOrder, tensorBytesView } from './tensor-bytes';
import { utf8Length } from './utf8';
import { fromWireArray, toWireArray, type WireValue } from './wire-array';
import type { WireFormat, WireTensor } from './tensor';

export type { WireValue } from './wire-array';
export { tensorBytesView, storageFromBytes } from './tensor-bytes';
export { encodeStringBytes, decodeStringBytes } from './string-bytes';

/** Largest tensor decodeWireTensor accepts unless told otherwise: 64 MiB of decoded storage. */
export const DEFAULT_MAX_TENSOR_BYTES = 64 * 1024 * 1024;

export interface DecodeLimits {
  /** Largest tensor accepted, in bytes of its decoded storage (default 64 MiB). */
  maxBytes?: number;
}

/** What decodeWireTensor accepts: a WireTensor, or one built in code with bigint 64-bit integers. */
export interface WireTensorLike {
  name: string;
  dtype: string;
  shape: readonly number[];
  data: string | readonly WireValue[];
}

/**
 * Encode a tensor for the JSON wire, losslessly. 'base64': the little-endian bytes (string tensors: the KServe
 * BYTES layout, a 4-byte little-endian length before each UTF-8 element). 'array': readable values — floats as
 * the shortest decimal that reads back to the same bits, with "NaN", "Infinity", "-Infinity", "-0" strings
 * (float16/bfloat16 show their values, not their bits; NaN payloads survive only in base64), 64-bit integers as
 * decimal strings, bool as true/false.
 */
export function encodeWireTensor(name: string, t: Tensor, format: WireFormat = 'base64'): WireTensor {
  const count = checkedCount(name, t.shape);
  const expected = storageLength(t.dtype, count);
  if (t.data.length !== expected) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `tensor '${name}': ${t.dtype} of shape [${t.shape.join(', ')}] needs ${expected} storage elements, has ${t.data.length}`,
      { tensor: name, expected, received: t.data.length },
    );
  }
  const shape = [...t.shape];
  if (format === 'array') return { name, dtype: t.dtype, shape, data: toWireArray(t) };
  const bytes = t.dtype === 'string' ? encodeStringBytes(t.data as string[]) : tensorBytesView(t);
  return { name, dtype: t.dtype, shape, data: encodeBase64(bytes) };
}

/**
 * Decode a wire tensor into fresh, aligned storage. Order of checks: dtype (DTYPE_UNSUPPORTED), shape
 * (SHAPE_INVALID), size limit (TENSOR_TOO_LARGE, before anything is allocated), data length against dtype x
 * shape (TENSOR_SIZE_MISMATCH), then each element (TENSOR_ENCODING_INVALID naming the tensor and index).
 */
export function decodeWireTensor(wire: WireTensorLike, limits: DecodeLimits = {}): Tensor {
  const { name } = wire;
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_TENSOR_BYTES;
  if (!isDType(wire.dtype)) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `tensor '${name}' has dtype ${JSON.stringify(wire.dtype)}; expected one of the ONNX dtypes (float32, int64, ...)`, { tensor: name });
  }
  const dtype: DType = wire.dtype;
  const count = checkedCount(name, wire.shape);
  const shape = [...wire.shape];
  const shapeText = `[${shape.join(', ')}]`;

  if (dtype !== 'string') {
    const bytes = byteLengthOf(dtype, count);
    if (bytes > maxBytes) throw tooLarge(name, `${dtype} ${shapeText} needs ${bytes} bytes`, maxBytes);
  }
  if (typeof wire.data !== 'string') {
    // The count first: a wrong-sized array is refused without looking at a single element.
    if (wire.data.length !== count) {
      throw sizeMismatch(name, `${dtype} ${shapeText} needs ${count} values, got ${wire.data.length}`, count, wire.data.length);
    }
    if (dtype === 'string') {
      let total = 0;
      for (const v of wire.data) total += typeof v === 'string' ? utf8Length(v) : 0;
      if (total > maxBytes) throw tooLarge(name, `string data of ${total} UTF-8 bytes`, maxBytes);
    }
    return { dtype, shape, data: fromWireArray(name, dtype, count, wire.data) };
  }

  const received = base64DecodedLength(wire.data);
  if (received < 0) {
    throw new LeptonError('TENSOR_ENCODING_INVALID', `tensor '${name}': base64 data length ${wire.data.length} is not valid`, { tensor: name });
  }
  if (dtype === 'string') {
    if (received > maxBytes) throw tooLarge(name, `string data of ${received} bytes`, maxBytes);
    const raw = new Uint8Array(received);
    decodeBase64Into(wire.data, raw, `tensor '${name}'`);
    return { dtype, shape, data: decodeStringBytes(raw, count, `tensor '${name}'`) };
  }
  const expected = byteLengthOf(dtype, count);
  if (received !== expected) {
    throw sizeMismatch(name, `${dtype} ${shapeText} needs ${expected} bytes, base64 data holds ${received}`, expected, received);
  }
  // Decode straight into the new storage: no intermediate copy, and the result owns its own aligned buffer.
  const data = allocate(dtype, count);
  const target = data as Exclude<TensorData, string[]>;
  decodeBase64Into(wire.data, new Uint8Array(target.buffer, target.byteOffset, target.byteLength), `tensor '${name}'`);
  fixByteOrder(dtype as NumericDType, data);
  return { dtype, shape, data };
}

/** Element count of a shape, rejecting dims that are not non-negative safe integers (SHAPE_INVALID). */
function checkedCount(name: string, shape: readonly number[]): number {
  if (!Array.isArray(shape) || shape.length > 8) {
    throw new LeptonError('SHAPE_INVALID', `tensor '${name}' shape must be an array of at most 8 dims`, { tensor: name });
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new LeptonError('SHAPE_INVALID', `tensor '${name}' shape[${i}] is ${String(d)}; expected a non-negative integer`, { tensor: name });
    }
    count *= d;
  }
  // Beyond 2^53 elements no real tensor fits anyway; report it as too large rather than computing garbage.
  if (!Number.isSafeInteger(count)) {
    throw new LeptonError('TENSOR_TOO_LARGE', `tensor '${name}' shape [${shape.join(', ')}] has more than 2^53 elements`, { tensor: name });
  }
  return count;
}

function tooLarge(name: string, what: string, maxBytes: number): LeptonError {
  return new LeptonError('TENSOR_TOO_LARGE', `tensor '${name}': ${what}; the limit is ${maxBytes} bytes`, {
    tensor: name,
    maxBytes,
  });
}

function sizeMismatch(name: string, what: string, expected: number, received: number): LeptonError {
  return new LeptonError('TENSOR_SIZE_MISMATCH', `tensor '${name}': ${what}`, { tensor: name, expected, received });
}
