import {
  LeptonError,
  allocate,
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  type DType,
  type Tensor,
  type TensorData,
} from '@lepton/tensor-core';
import { shortestBfloat16, shortestFloat16, shortestFloat32 } from './float-text';

/** One element of the readable array form (bigint accepted on input for 64-bit integers, never produced). */
export type WireValue = number | string | boolean | bigint;

const INT_RANGE: Record<string, readonly [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int4: [-8, 7],
  uint4: [0, 15],
};
const BIG_RANGE: Record<string, readonly [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Non-finite floats and -0 as the wire strings; finite values as numbers. */
function floatOut(x: number, shortest: (x: number) => number): number | string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : 0;
  return shortest(x);
}

const identity = (x: number): number => x;

/** The readable array form of a tensor's elements (floats as the shortest decimal reading back to the same bits). */
export function toWireArray(t: Tensor): (number | string | boolean)[] {
  const n = t.dtype === 'string' ? t.data.length : t.shape.reduce((a, b) => a * b, 1);
  const out = new Array<number | string | boolean>(n);
  const d = t.data;
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = floatOut(d[i] as number, shortestFloat32);
      return out;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = floatOut(d[i] as number, identity);
      return out;
    case 'float16':
    case 'bfloat16': {
      const value = t.dtype === 'float16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
      const shortest = t.dtype === 'float16' ? shortestFloat16 : shortestBfloat16;
      for (let i = 0; i < n; i++) {
        const bits = d[i] as number;
        const v = value(bits);
        out[i] = Number.isFinite(v) && v !== 0 ? shortest(bits) : floatOut(v, identity);
      }
      return out;
    }
    case 'int64':
    case 'uint64':
      for (let i = 0; i < n; i++) out[i] = String(d[i]);
      return out;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = d[i] !== 0;
      return out;
    case 'int4':
    case 'uint4':
      for (let i = 0; i < n; i++) {
        const nibble = ((d[i >> 1] as number) >> ((i & 1) * 4)) & 15;
        out[i] = t.dtype === 'int4' && nibble > 7 ? nibble - 16 : nibble;
      }
      return out;
    case 'string':
      for (let i = 0; i < n; i++) out[i] = d[i] as string;
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = d[i] as number;
      return out;
  }
}

/** Longest rendering of a bad value a message repeats: a 100 kB digit string must not come back as 100 kB of error. */
const MAX_SHOWN = 64;

function invalid(name: string, index: number, value: unknown, expected: string): LeptonError {
  const full = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  const shown = full.length <= MAX_SHOWN ? full : `${full.slice(0, MAX_SHOWN)}... (${full.length} characters)`;
  return new LeptonError(
    'TENSOR_ENCODING_INVALID',
    `tensor '${name}' data[${index}] is ${shown}; expected ${expected}`,
    { tensor: name, index },
  );
}

function parseFloatValue(name: string, i: number, v: WireValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (DECIMAL_TEXT.test(v)) return Number(v);
  }
  throw invalid(name, i, v, 'a number or one of "NaN", "Infinity", "-Infinity", "-0"');
}

function parseInteger(name: string, i: number, v: WireValue, dtype: DType): number {
  const [lo, hi] = INT_RANGE[dtype]!;
  let x = NaN;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'string' && INTEGER_TEXT.test(v)) x = Number(v);
  else if (typeof v === 'bigint') x = Number(v);
  if (!Number.isInteger(x) || x < lo || x > hi) throw invalid(name, i, v, `an integer in [${lo}, ${hi}] for ${dtype}`);
  return x;
}

function parseBigInteger(name: string, i: number, v: WireValue, dtype: DType): bigint {
  const [lo, hi] = BIG_RANGE[dtype]!;
  let x: bigint | undefined;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) x = BigInt(v);
  else if (typeof v === 'string' && INTEGER_TEXT.test(v)) x = BigInt(v);
  if (x === undefined || x < lo || x > hi) {
    // A JSON number past 2^53 reaches us already rounded by the parser (9007199254740993 reads as ...992): say so,
    // since the value shown is not the one the client wrote.
    const rounded = typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)
      ? `; a number beyond 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) has lost digits by the time it is parsed, so send 64-bit integers as decimal strings`
      : '';
    throw invalid(name, i, v, `a ${dtype} in [${lo}, ${hi}] as a decimal string, a safe integer or a bigint${rounded}`);
  }
  return x;
}

/** Fresh storage for `count` elements of `dtype` from the readable array form; bad elements name the index. */
export function fromWireArray(name: string, dtype: DType, count: number, values: readonly WireValue[]): TensorData {
  const out = allocate(dtype, count);
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const f = out as Float32Array | Float64Array;
      for (let i = 0; i < count; i++) {
        const v = values[i]!;
        f[i] = v === '-0' ? -0 : parseFloatValue(name, i, v);
      }
      return out;
    }
    case 'float16':
    case 'bfloat16': {
      const f = out as Uint16Array;
      const bits = dtype === 'float16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
      for (let i = 0; i < count; i++) {
        const v = values[i]!;
        f[i] = bits(v === '-0' ? -0 : parseFloatValue(name, i, v));
      }
      return out;
    }
    case 'int64':
    case 'uint64': {
      const b = out as BigInt64Array | BigUint64Array;
      for (let i = 0; i < count; i++) b[i] = parseBigInteger(name, i, values[i]!, dtype);
      return out;
    }
    case 'bool': {
      const b = out as Uint8Array;
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (v === true || v === 1) b[i] = 1;
        else if (v !== false && v !== 0) throw invalid(name, i, v, 'true or false (or 1 or 0)');
      }
      return out;
    }
    case 'int4':
    case 'uint4': {
      const b = out as Uint8Array;
      for (let i = 0; i < count; i++) {
        const nibble = parseInteger(name, i, values[i]!, dtype) & 15;
        b[i >> 1] = b[i >> 1]! | (nibble << ((i & 1) * 4));
      }
      return out;
    }
    case 'string': {
      const s = out as string[];
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw invalid(name, i, v, 'a string');
        s[i] = v;
      }
      return out;
    }
    default: {
      const a = out as Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
      for (let i = 0; i < count; i++) a[i] = parseInteger(name, i, values[i]!, dtype);
      return out;
    }
  }
}
