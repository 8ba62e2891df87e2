import { LeptonError, float16ToFloat32Array } from '@lepton/tensor-core';
import { OnnxType, int64, type TensorProto } from './proto/types';

/** Bytes per element of each ONNX data type (0 for strings; 4-bit types count half a byte). */
const ELEMENT_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1, 21: 0.5, 22: 0.5, 23: 0.5,
};

const TYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

export function onnxTypeName(code: number | undefined): string {
  return TYPE_NAMES[code ?? 0] ?? `type${code ?? 0}`;
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(int64);
}

export function elementCount(t: TensorProto): number {
  return tensorDims(t).reduce((a, b) => a * b, 1);
}

/** Bytes of the tensor's values as stored raw (what it costs in the file and in memory). */
export function tensorByteSize(t: TensorProto): number {
  if (t.dataType === OnnxType.STRING) return (t.stringData ?? []).reduce((a, s) => a + s.length, 0);
  return Math.ceil(elementCount(t) * (ELEMENT_BYTES[t.dataType ?? 0] ?? 0));
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === 1;
}

function notLoaded(t: TensorProto): never {
  throw new LeptonError('VALIDATION_FAILED', `tensor ${JSON.stringify(t.name ?? '')} keeps its data in an external file; load it with a resolver (readModel(bytes, { resolveExternal })) first`);
}

/**
 * The values of a float32 or float16 tensor as float32. A raw float32 tensor whose bytes sit 4-byte aligned
 * is returned as a view on the model bytes (no copy); otherwise one copy is made.
 */
export function readFloat32(t: TensorProto): Float32Array {
  if (isExternal(t)) notLoaded(t);
  const n = elementCount(t);
  const raw = t.rawData;
  if (t.dataType === OnnxType.FLOAT) {
    if (raw && raw.length > 0) {
      if (raw.length !== n * 4) badLength(t, raw.length, n * 4);
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
      return new Float32Array(copyBytes(raw).buffer, 0, n);
    }
    const data = t.floatData ?? [];
    if (data.length !== n) badLength(t, data.length * 4, n * 4);
    return Float32Array.from(data);
  }
  if (t.dataType === OnnxType.FLOAT16) {
    let bits: Uint16Array;
    if (raw && raw.length > 0) {
      if (raw.length !== n * 2) badLength(t, raw.length, n * 2);
      bits = raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, n) : new Uint16Array(copyBytes(raw).buffer, 0, n);
    } else {
      // float16 values without raw_data are stored one per int32_data entry (ONNX spec).
      bits = Uint16Array.from(t.int32Data ?? []);
    }
    return float16ToFloat32Array(bits);
  }
  throw new LeptonError('TENSOR_DTYPE_MISMATCH', `tensor ${JSON.stringify(t.name ?? '')} is ${onnxTypeName(t.dataType)}; expected float32 or float16`);
}

/**
 * Visit a float32 tensor's values in blocks of at most `block` values: views on the model bytes when they are
 * 4-byte aligned, else copies of one block at a time, so an unaligned tensor never costs a second full-size copy.
 */
export function forEachFloat32Block(t: TensorProto, block: number, fn: (values: Float32Array, start: number) => void): void {
  const raw = t.rawData;
  const n = elementCount(t);
  if (t.dataType !== OnnxType.FLOAT || !raw || raw.length === 0 || raw.byteOffset % 4 === 0) {
    const all = readFloat32(t);
    for (let start = 0; start < n; start += block) fn(all.subarray(start, Math.min(n, start + block)), start);
    return;
  }
  if (raw.length !== n * 4) badLength(t, raw.length, n * 4);
  const scratch = new Float32Array(Math.min(block, n));
  const bytes = new Uint8Array(scratch.buffer);
  for (let start = 0; start < n; start += block) {
    const len = Math.min(block, n - start);
    bytes.set(raw.subarray(start * 4, (start + len) * 4));
    fn(scratch.subarray(0, len), start);
  }
}

/** The values of an int64/int32 tensor as numbers (small shape-like tensors only). */
export function readIntegers(t: TensorProto): number[] {
  if (isExternal(t)) notLoaded(t);
  const raw = t.rawData;
  const n = elementCount(t);
  if (t.dataType === OnnxType.INT64) {
    if (raw && raw.length > 0) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
      return Array.from({ length: n }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    }
    return (t.int64Data ?? []).map(int64);
  }
  if (t.dataType === OnnxType.INT32) {
    if (raw && raw.length > 0) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
      return Array.from({ length: n }, (_, i) => view.getInt32(i * 4, true));
    }
    return [...(t.int32Data ?? [])];
  }
  throw new LeptonError('TENSOR_DTYPE_MISMATCH', `tensor ${JSON.stringify(t.name ?? '')} is ${onnxTypeName(t.dataType)}; expected int64 or int32`);
}

// A fresh, 0-offset copy. Uint8Array.prototype.slice, because a Node Buffer's own slice() is a view.
function copyBytes(raw: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(raw);
}

function badLength(t: TensorProto, got: number, expected: number): never {
  throw new LeptonError('TENSOR_SIZE_MISMATCH', `tensor ${JSON.stringify(t.name ?? '')} [${tensorDims(t).join(', ')}] has ${got} bytes of data; expected ${expected}`);
}

/** A new TensorProto holding `data` as raw little-endian bytes (the typed array's bytes are used as they are). */
export function makeTensor(name: string, dataType: number, dims: readonly number[], data: ArrayBufferView): TensorProto {
  return {
    name,
    dataType,
    dims: [...dims],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    externalData: [],
    doubleData: [],
    uint64Data: [],
    metadataProps: [],
  };
}

/** Replace a tensor's values in place, keeping its name, doc string and metadata. */
export function setTensorData(t: TensorProto, dataType: number, dims: readonly number[], data: ArrayBufferView): void {
  t.dataType = dataType;
  t.dims = [...dims];
  t.rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  t.floatData = [];
  t.int32Data = [];
  t.int64Data = [];
  t.doubleData = [];
  t.uint64Data = [];
  t.stringData = [];
}
