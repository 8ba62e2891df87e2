import { LeptonError, byteLengthOf, type DType, type NumericDType, type Tensor } from '@lepton/tensor-core';
import { decodeStringBytes, encodeStringBytes } from '../string-bytes';
import { storageFromBytes, tensorBytesView } from '../tensor-bytes';
import { decodeWireTensor, DEFAULT_MAX_TENSOR_BYTES } from '../wire';
import { toWireArray, type WireValue } from '../wire-array';
import { dtypeOfKserve, kserveDatatypeOf } from './datatypes';
import type { KserveTensor } from './schemas';

/** Reads the binary part of a message front to back: each binary tensor takes the next binary_data_size bytes. */
export class BinaryCursor {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  take(n: number, what: string): Uint8Array {
    const left = this.bytes.length - this.offset;
    if (n > left) {
      throw new LeptonError('TENSOR_SIZE_MISMATCH', `${what}: binary_data_size ${n} runs past the end of the body (${left} binary bytes left)`, {
        expected: n,
        received: left,
      });
    }
    const view = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  /** Every binary byte must belong to a tensor: leftovers mean the sizes and the body disagree. */
  finish(): void {
    const left = this.bytes.length - this.offset;
    if (left !== 0) {
      throw new LeptonError('TENSOR_SIZE_MISMATCH', `${left} bytes follow the last binary tensor; the binary_data_size values add up to ${this.offset}`, {
        expected: this.offset,
        received: this.bytes.length,
      });
    }
  }
}

/** Element count of a KServe shape: each dim a non-negative safe integer (SHAPE_INVALID names the dim). */
export function kserveShape(what: string, shape: readonly unknown[]): { shape: number[]; count: number } {
  let count = 1;
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new LeptonError('SHAPE_INVALID', `${what} shape[${i}] is ${JSON.stringify(d)}; expected a non-negative integer`, { dim: i });
    }
    count *= d;
    out.push(d);
  }
  if (!Number.isSafeInteger(count)) {
    throw new LeptonError('SHAPE_INVALID', `${what} shape [${out.join(', ')}] has more than 2^53 elements`);
  }
  return { shape: out, count };
}

/** Nested or flat JSON tensor data, flattened row-major (the protocol allows both). */
function flatten(data: unknown[], what: string): WireValue[] {
  if (!data.some(Array.isArray)) return data as WireValue[];
  const out: WireValue[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (!Array.isArray(v)) {
      out.push(v as WireValue);
      return;
    }
    if (depth > 8) throw new LeptonError('TENSOR_ENCODING_INVALID', `${what} data is nested deeper than 8 levels`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  return out;
}

/** What a JSON `data` that is not an array holds, for the message (long strings cut). */
function describeNonArray(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  return 'an object';
}

function binarySize(what: string, parameters: Record<string, unknown> | undefined, maxBytes: number): number | undefined {
  const size = parameters?.['binary_data_size'];
  if (size === undefined) return undefined;
  // 2**60 is an integer, just not one a double holds exactly (JSON.parse gives 1152921504606847000; 1e400 gives
  // Infinity): it is too large, not malformed, and no limit we enforce comes near 2^53.
  if (typeof size === 'number' && size > Number.MAX_SAFE_INTEGER) {
    throw new LeptonError(
      'TENSOR_TOO_LARGE',
      `${what}: binary_data_size ${String(size)} is too large; the limit is ${Math.min(maxBytes, Number.MAX_SAFE_INTEGER)} bytes`,
      { maxBytes },
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new LeptonError('BAD_REQUEST', `${what} binary_data_size is ${JSON.stringify(size)}; expected a non-negative integer`);
  }
  return size;
}

/**
 * Decode one `$request_input` (or `$response_output`) into a tensor with fresh, aligned storage. Checks, in
 * order: datatype name, shape, size limit (before anything is allocated), byte length against dtype x shape,
 * then the elements.
 */
export function readKserveTensor(entry: KserveTensor, cursor: BinaryCursor, maxBytes = DEFAULT_MAX_TENSOR_BYTES): Tensor {
  const what = `tensor '${entry.name}'`;
  const dtype: DType = dtypeOfKserve(entry.datatype, what);
  const { shape, count } = kserveShape(what, entry.shape);
  const size = binarySize(what, entry.parameters, maxBytes);
  if (size === undefined) {
    if (entry.data === undefined) {
      throw new LeptonError('BAD_REQUEST', `${what} has neither data nor a binary_data_size parameter`);
    }
    // The protocol's tensor data is always an array: a string, number, null or object is no tensor data at all.
    // Say so, rather than counting it as one element ("data holds 1").
    if (!Array.isArray(entry.data)) {
      throw new LeptonError(
        'BAD_REQUEST',
        `${what} data is ${describeNonArray(entry.data)}; expected an array of ${count} values for ${entry.datatype} [${shape.join(', ')}], or a binary_data_size parameter; the array may be flat or nested by the shape`,
        { received: entry.data === null ? 'null' : typeof entry.data },
      );
    }
    const values = flatten(entry.data, what);
    // Count first: a claimed shape far larger than the data sent is a malformed request (400), not a big one.
    if (values.length !== count) {
      throw new LeptonError('TENSOR_SIZE_MISMATCH', `${what}: ${entry.datatype} [${shape.join(', ')}] needs ${count} values, data holds ${values.length}`, {
        expected: count,
        received: values.length,
      });
    }
    return decodeWireTensor({ name: entry.name, dtype, shape, data: values }, { maxBytes });
  }
  if (entry.data !== undefined) throw new LeptonError('BAD_REQUEST', `${what} has both data and binary_data_size; send one`);
  if (dtype === 'string') {
    if (size > maxBytes) throw new LeptonError('TENSOR_TOO_LARGE', `${what}: binary_data_size ${size}; the limit is ${maxBytes} bytes`, { maxBytes });
    // Each element takes at least its 4-byte length: a count the bytes cannot hold is refused before decoding.
    if (count * 4 > size) {
      throw new LeptonError('TENSOR_SIZE_MISMATCH', `${what}: BYTES [${shape.join(', ')}] needs at least ${count * 4} bytes of lengths, binary_data_size is ${size}`, {
        received: size,
      });
    }
    return { dtype, shape, data: decodeStringBytes(cursor.take(size, what), count, what) };
  }
  const expected = byteLengthOf(dtype, count);
  if (size !== expected) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `${what}: ${entry.datatype} [${shape.join(', ')}] needs ${expected} bytes, binary_data_size is ${size}`,
      { expected, received: size },
    );
  }
  if (size > maxBytes) {
    throw new LeptonError('TENSOR_TOO_LARGE', `${what}: ${dtype} [${shape.join(', ')}] is ${size} bytes; the limit is ${maxBytes} bytes`, { maxBytes });
  }
  const bytes = cursor.take(size, what);
  if (dtype === 'bool') checkBoolBytes(what, bytes);
  // storageFromBytes copies into a new aligned buffer: the body buffer may be pooled or oddly aligned.
  return { dtype, shape, data: storageFromBytes(dtype as NumericDType, count, bytes) } as Tensor;
}

/**
 * The binary extension's BOOL is one byte per element, 1 for true and 0 for false (KServe and Triton alike).
 * Any other byte is a client writing something else (a bit-packed mask, a uint8 image) under the wrong datatype.
 */
function checkBoolBytes(what: string, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b > 1) {
      throw new LeptonError('TENSOR_ENCODING_INVALID', `${what}: BOOL byte ${i} is ${b}; expected 0 (false) or 1 (true), one byte per element`, {
        index: i,
      });
    }
  }
}

/**
 * A tensor as a KServe entry: binary (`binary_data_size` + the bytes to append after the header) or JSON `data`
 * (numbers; NaN, infinities and -0 as the strings "NaN", "Infinity", "-Infinity", "-0", which JSON numbers cannot
 * carry). 64-bit integers are numbers while every value of the tensor is within +-(2^53 - 1); a tensor holding a
 * larger one is written as decimal strings, all of it, because a JSON number past 2^53 loses digits in
 * JSON.stringify and in every JavaScript parser (9007199254740993 came back as ...992, and 2^63 - 1 as a value
 * int64 cannot hold). readKserveTensor, numpy and Python's json read the strings exactly.
 */
export function writeKserveTensor(name: string, t: Tensor, binary: boolean): { entry: KserveTensor; bytes?: Uint8Array } {
  const head = { name, datatype: kserveDatatypeOf(t.dtype), shape: [...t.shape] };
  if (binary) {
    const bytes = t.dtype === 'string' ? encodeStringBytes(t.data as string[]) : tensorBytesView(t);
    return { entry: { ...head, parameters: { binary_data_size: bytes.length } }, bytes };
  }
  const values = toWireArray(t);
  if ((t.dtype === 'int64' || t.dtype === 'uint64') && allSafe(t.data as BigInt64Array | BigUint64Array)) {
    for (let i = 0; i < values.length; i++) values[i] = Number(values[i]);
  }
  return { entry: { ...head, data: values } };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function allSafe(data: BigInt64Array | BigUint64Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v > MAX_SAFE || v < -MAX_SAFE) return false;
  }
  return true;
}
