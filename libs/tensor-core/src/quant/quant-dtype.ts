import { invalid } from './validate';

/** Integer types QuantizeLinear can produce. int4/uint4 are stored two per byte, low nibble first (ONNX order). */
export const QUANT_DTYPES = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'] as const;
export type QuantDType = (typeof QUANT_DTYPES)[number];

/** Storage of a quantized tensor. */
export interface QuantStorage {
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int4: Uint8Array;
  uint4: Uint8Array;
}

export const QUANT_LIMITS: Readonly<Record<QuantDType, readonly [number, number]>> = Object.freeze({
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int4: [-8, 7],
  uint4: [0, 15],
});

export function checkQuantDType(arg: string, dtype: unknown): QuantDType {
  if (!(QUANT_DTYPES as readonly unknown[]).includes(dtype)) {
    invalid(arg, `is ${String(dtype)}; expected one of ${QUANT_DTYPES.join(', ')}`, { received: dtype });
  }
  return dtype as QuantDType;
}

export function isPacked(dtype: QuantDType): boolean {
  return dtype === 'int4' || dtype === 'uint4';
}

/** Typed-array length holding `count` elements of dtype. */
export function quantStorageLength(dtype: QuantDType, count: number): number {
  return isPacked(dtype) ? (count + 1) >> 1 : count;
}

export function quantStorageCtor(dtype: QuantDType): { new (n: number): QuantStorage[QuantDType]; readonly name: string } {
  switch (dtype) {
    case 'int8':
      return Int8Array;
    case 'int16':
      return Int16Array;
    case 'uint16':
      return Uint16Array;
    default:
      return Uint8Array;
  }
}

// 1.5 * 2^52: adding and subtracting it rounds a double to an integer with the FPU's round-half-to-even,
// exactly for |v| < 2^51, which is far beyond any clamped quantized value. Math.round would round half up.
const RNE_MAGIC = 6755399441055744;

/** Round half to even (the IEEE default, what std::nearbyint and onnxruntime use). */
export function roundHalfEven(v: number): number {
  if (!(Math.abs(v) < 2 ** 51)) return v;
  return v + RNE_MAGIC - RNE_MAGIC;
}

/** Read element i of a packed int4/uint4 buffer. */
export function readNibble(data: Uint8Array, i: number, signed: boolean): number {
  const b = data[i >> 1]!;
  const n = i & 1 ? b >> 4 : b & 0x0f;
  return signed ? (n << 28) >> 28 : n;
}

/** Write element i of a packed int4/uint4 buffer (value already in range). */
export function writeNibble(data: Uint8Array, i: number, v: number): void {
  const k = i >> 1;
  data[k] = i & 1 ? (data[k]! & 0x0f) | ((v & 0x0f) << 4) : (data[k]! & 0xf0) | (v & 0x0f);
}

/** Pack signed/unsigned 4-bit values (one per entry) into ONNX order. */
export function packInt4(values: ArrayLike<number>, out?: Uint8Array): Uint8Array {
  const n = values.length;
  const dst = out ?? new Uint8Array((n + 1) >> 1);
  if (dst.length !== (n + 1) >> 1) invalid('out', `has ${dst.length} bytes; expected ${(n + 1) >> 1}`);
  if (n & 1) dst[dst.length - 1] = 0;
  for (let i = 0; i < n; i++) writeNibble(dst, i, values[i]!);
  return dst;
}

/** Unpack `count` 4-bit values to one Int8Array entry each. */
export function unpackInt4(data: Uint8Array, count: number, signed: boolean, out?: Int8Array): Int8Array {
  const dst = out ?? new Int8Array(count);
  if (dst.length !== count) invalid('out', `has ${dst.length} elements; expected ${count}`);
  if (data.length < (count + 1) >> 1) invalid('data', `has ${data.length} bytes; expected ${(count + 1) >> 1}`);
  for (let i = 0; i < count; i++) dst[i] = readNibble(data, i, signed);
  return dst;
}
