/**
 * Every ONNX numeric tensor element type, with its TensorProto enum value, the KServe v2 datatype name and the
 * typed array that stores it. float16 and bfloat16 travel as Uint16Array bit patterns (Node 20 has no
 * Float16Array); int64/uint64 as BigInt64Array/BigUint64Array; bool as Uint8Array of 0/1; int4/uint4 packed two
 * per byte in ONNX order (low nibble first) in a Uint8Array; string as string[].
 */
export const DTYPES = [
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'bfloat16',
  'uint4',
  'int4',
] as const;

export type DType = (typeof DTYPES)[number];

export type NumericDType = Exclude<DType, 'string'>;

export interface DTypeInfo {
  readonly name: DType;
  /** ONNX TensorProto.DataType value. */
  readonly onnx: number;
  /** KServe v2 / Open Inference Protocol datatype name. */
  readonly kserve: string;
  /** Bits per element (string: 0, variable). */
  readonly bits: number;
  readonly kind: 'float' | 'int' | 'uint' | 'bool' | 'string';
}

const info = (name: DType, onnx: number, kserve: string, bits: number, kind: DTypeInfo['kind']): DTypeInfo =>
  Object.freeze({ name, onnx, kserve, bits, kind });

export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = Object.freeze({
  float32: info('float32', 1, 'FP32', 32, 'float'),
  uint8: info('uint8', 2, 'UINT8', 8, 'uint'),
  int8: info('int8', 3, 'INT8', 8, 'int'),
  uint16: info('uint16', 4, 'UINT16', 16, 'uint'),
  int16: info('int16', 5, 'INT16', 16, 'int'),
  int32: info('int32', 6, 'INT32', 32, 'int'),
  int64: info('int64', 7, 'INT64', 64, 'int'),
  string: info('string', 8, 'BYTES', 0, 'string'),
  bool: info('bool', 9, 'BOOL', 8, 'bool'),
  float16: info('float16', 10, 'FP16', 16, 'float'),
  float64: info('float64', 11, 'FP64', 64, 'float'),
  uint32: info('uint32', 12, 'UINT32', 32, 'uint'),
  uint64: info('uint64', 13, 'UINT64', 64, 'uint'),
  bfloat16: info('bfloat16', 16, 'BF16', 16, 'float'),
  uint4: info('uint4', 21, 'UINT4', 4, 'uint'),
  int4: info('int4', 22, 'INT4', 4, 'int'),
});

/** Storage for each dtype. */
export interface DTypeStorage {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  int4: Uint8Array;
  uint4: Uint8Array;
  string: string[];
}

export type TensorData = DTypeStorage[DType];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

const BY_ONNX = new Map<number, DType>(DTYPES.map((d) => [DTYPE_INFO[d].onnx, d]));
const BY_KSERVE = new Map<string, DType>(DTYPES.map((d) => [DTYPE_INFO[d].kserve, d]));

/** dtype for an ONNX TensorProto.DataType value, or undefined when Lepton does not support it. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return BY_ONNX.get(code);
}

/** dtype for a KServe v2 datatype name (FP32, INT64, BYTES, ...), or undefined. */
export function dtypeFromKserve(name: string): DType | undefined {
  return BY_KSERVE.get(name);
}

/** Number of bytes `count` elements of `dtype` occupy (int4/uint4 round up to whole bytes). */
export function byteLengthOf(dtype: NumericDType, count: number): number {
  const bits = DTYPE_INFO[dtype].bits;
  return bits === 4 ? Math.ceil(count / 2) : count * (bits / 8);
}

/** Allocate zeroed storage for `count` elements. */
export function allocate<D extends DType>(dtype: D, count: number): DTypeStorage[D] {
  return allocateAny(dtype, count) as DTypeStorage[D];
}

function allocateAny(dtype: DType, count: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return new Uint16Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(count);
    case 'int4':
    case 'uint4':
      return new Uint8Array(Math.ceil(count / 2));
    case 'int16':
      return new Int16Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'string':
      return new Array<string>(count).fill('');
  }
}
