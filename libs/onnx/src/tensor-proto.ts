import protobuf from 'protobufjs';
import { LeptonError, allocate, dtypeFromOnnx, sizeOf, storageLength, DTYPE_INFO, type DType, type Tensor, type TensorData } from '@lepton/tensor-core';
import { storageFromBytes, tensorBytesView } from '@lepton/contracts';
import { ONNX_PROTO } from './proto/schema';
import type { Int64, TensorProto } from './proto/types';
import { onnxTypeName } from './tensors';

// TensorProto <-> Lepton Tensor for every dtype Lepton has. A TensorProto may carry its values either as
// raw_data (little-endian bytes) or in the typed field the ONNX spec assigns to the dtype; both decode to the
// same tensor. 64-bit integers go through BigInt so values beyond 2^53 survive, float16/bfloat16 keep their bit
// patterns (NaN payloads included), and strings are UTF-8.

let tensorType: protobuf.Type | undefined;
function tensorMessage(): protobuf.Type {
  tensorType ??= protobuf.parse(ONNX_PROTO).root.lookupType('onnx.TensorProto');
  return tensorType;
}

/** Decode a serialized TensorProto (an ONNX test's input_0.pb). TENSOR_ENCODING_INVALID when the bytes are not one. */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  try {
    return tensorMessage().decode(bytes) as unknown as TensorProto;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LeptonError('TENSOR_ENCODING_INVALID', `bytes (${bytes.length}) are not an ONNX TensorProto: ${reason}`);
  }
}

/** Serialize a TensorProto. */
export function encodeTensorProto(t: TensorProto): Uint8Array {
  return tensorMessage().encode(t as unknown as Record<string, unknown>).finish();
}

/** A 64-bit field as an exact bigint (protobufjs delivers Long objects, or numbers for small values). */
export function int64ToBigInt(v: Int64, unsigned = false): bigint {
  let n: bigint;
  if (typeof v === 'number') n = BigInt(v);
  else n = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? BigInt.asUintN(64, n) : BigInt.asIntN(64, n);
}

/**
 * The Lepton tensor a TensorProto holds. DTYPE_UNSUPPORTED names ONNX types Lepton has no storage for
 * (complex, float8, float4); TENSOR_SIZE_MISMATCH when the data does not fill dims; VALIDATION_FAILED for
 * external data (load it first).
 */
export function tensorFromProto(tp: TensorProto): Tensor {
  const name = JSON.stringify(tp.name ?? '');
  const dtype = dtypeFromOnnx(tp.dataType ?? 0);
  if (dtype === undefined) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `tensor ${name} has ONNX type ${onnxTypeName(tp.dataType)} (${tp.dataType ?? 0}), which Lepton tensors cannot hold`, {
      onnxType: tp.dataType ?? 0,
    });
  }
  if (tp.dataLocation === 1) {
    throw new LeptonError('VALIDATION_FAILED', `tensor ${name} keeps its data in an external file; load it first`);
  }
  const shape = (tp.dims ?? []).map((d) => Number(int64ToBigInt(d)));
  const count = sizeOf(shape);
  const mismatch = (got: number, unit: string): never => {
    throw new LeptonError('TENSOR_SIZE_MISMATCH', `tensor ${name} (${dtype} [${shape.join(', ')}]) holds ${got} ${unit}; expected ${dtype === 'string' ? count : storageLength(dtype, count)}`, {
      expected: storageLength(dtype, count),
      received: got,
    });
  };
  if (dtype === 'string') {
    const items = tp.stringData ?? [];
    if (items.length !== count) mismatch(items.length, 'strings');
    return { dtype, shape, data: items.map((b) => protobuf.util.utf8.read(b, 0, b.length)) };
  }
  const raw = tp.rawData;
  if (raw !== undefined && raw.length > 0) {
    const bytes = storageLength(dtype, count) * Math.max(1, DTYPE_INFO[dtype].bits / 8);
    if (raw.length !== bytes) mismatch(raw.length, 'bytes of raw_data');
    return { dtype, shape, data: storageFromBytes(dtype, count, raw) };
  }
  const n = storageLength(dtype, count);
  const data = allocate(dtype, count) as Exclude<TensorData, string[]>;
  const field = typedField(dtype);
  const values = (tp[field] ?? []) as (number | Int64)[];
  if (values.length !== n) mismatch(values.length, `values in ${field}`);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const unsigned = data instanceof BigUint64Array;
    for (let i = 0; i < n; i++) data[i] = int64ToBigInt(values[i] as Int64, unsigned);
  } else {
    // Typed arrays wrap or reinterpret exactly as the spec's "bit-wise" storage wants (uint32 in uint64_data,
    // float16 bits and packed int4 bytes in int32_data).
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      (data as Float64Array)[i] = typeof v === 'number' ? v : Number(int64ToBigInt(v, true));
    }
  }
  return { dtype, shape, data };
}

/** The TensorProto field ONNX assigns to a dtype when raw_data is not used. */
export function typedField(dtype: Exclude<DType, 'string'>): 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' {
  switch (dtype) {
    case 'float32':
      return 'floatData';
    case 'float64':
      return 'doubleData';
    case 'int64':
      return 'int64Data';
    case 'uint32':
    case 'uint64':
      return 'uint64Data';
    default:
      return 'int32Data';
  }
}

export interface TensorToProtoOptions {
  /** Put numeric values in raw_data (default) or in the dtype's typed field. */
  raw?: boolean;
}

/** A TensorProto holding a Lepton tensor; the inverse of tensorFromProto, bit for bit. */
export function tensorToProto(name: string, t: Tensor, options: TensorToProtoOptions = {}): TensorProto {
  const tp: TensorProto = {
    name,
    dataType: DTYPE_INFO[t.dtype].onnx,
    dims: [...t.shape],
    floatData: [],
    int32Data: [],
    stringData: [],
    int64Data: [],
    externalData: [],
    doubleData: [],
    uint64Data: [],
    metadataProps: [],
  };
  if (t.dtype === 'string') {
    tp.stringData = (t.data as string[]).map((s) => {
      const out = new Uint8Array(protobuf.util.utf8.length(s));
      protobuf.util.utf8.write(s, out, 0);
      return out;
    });
    return tp;
  }
  if (options.raw ?? true) {
    tp.rawData = tensorBytesView(t).slice();
    return tp;
  }
  const field = typedField(t.dtype);
  const data = t.data as Exclude<TensorData, string[]>;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    // protobufjs writes Long-like objects exactly; plain numbers would lose bits beyond 2^53.
    tp[field] = Array.from(data, (v) => {
      const u = BigInt.asUintN(64, v);
      return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: data instanceof BigUint64Array } as unknown as Int64;
    }) as never;
  } else {
    tp[field] = Array.from(data as ArrayLike<number>) as never;
  }
  return tp;
}
