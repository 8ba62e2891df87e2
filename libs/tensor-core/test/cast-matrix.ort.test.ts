import { describe, expect, it } from 'vitest';
import {
  DTYPE_INFO,
  castTensor,
  createTensor,
  float32ToBfloat16Array,
  float32ToFloat16Array,
  packInt4,
  type NumericDType,
  type TensorData,
} from '../src';
import { buildModel, ort, runModel, type InitSpec } from './support/onnx-model';
import { randomInts } from './support/random';

// Expected values: onnxruntime-node 1.30 Cast (opset 21, CPU EP, optimizations off) for every ordered pair of
// the 15 numeric dtypes tensor-core stores, compared bit for bit (float words compared as integers, so NaN signs
// and payloads count). Each pair also runs at rank 0 and at a zero-size shape.
// onnxruntime-node cannot pass bfloat16, int4 or uint4 tensors to or from JavaScript: such sources travel as an
// initializer, and such targets are widened in-graph by a second, exact Cast (bfloat16 -> float32, int4 -> int8),
// which our side reproduces with castTensor.

const DTYPES: NumericDType[] = [
  'float32', 'float64', 'float16', 'bfloat16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'int4', 'uint4',
];
const NO_JS = new Set<NumericDType>(['bfloat16', 'int4', 'uint4']);
const WIDEN: Partial<Record<NumericDType, NumericDType>> = { bfloat16: 'float32', int4: 'int8', uint4: 'uint8' };

// In range for every target and kept last: onnxruntime's vector body and scalar tail disagree for NaN and
// out-of-range float -> uint32 (see cast-scalar.ts); castTensor reproduces the vector body.
const TAIL = [3, 4, 5.5, 100, 0.25, 0.75, 9, 1];
const FLOAT_EDGES = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 7.5, -8.5, 15.5, 127.5, 128, -129, 255.5, 256, 32767.5, 65535.5, 65536,
  2147483520, -2147483648, 3e9, -3e9, 4294967040, 1e10, -1e10, 9.2e18, 1e19, -1e19, 1e-10, 0.1, -0.1, 65504, 65520, 1e-40,
  3.4028234663852886e38, NaN, Infinity, -Infinity,
];

function floats32(): Float32Array {
  const x = new Float32Array([...FLOAT_EDGES, ...randomInts(3, 40, -70000, 70000).map((v) => v / 7), ...TAIL]);
  // NaNs with the sign bit set and with payloads (JS NaN literals are all 0x7fc00000).
  new Uint32Array(x.buffer).set([0xffc00000, 0x7f800001, 0xffa00000, 0x7fc00123], 10);
  return x;
}

/** Source values of each dtype: edges of its range, random values and (for 16-bit floats) every bit pattern. */
function source(dtype: NumericDType): TensorData {
  const ints = randomInts(11, 64, -(2 ** 31), 2 ** 31 - 1);
  const intEdges = [0, 1, -1, 2, 7, 8, -8, 15, 16, 127, 128, -128, -129, 255, 256, 32767, 32768, -32769, 65535, 65536, 16777217, 2 ** 31 - 1, -(2 ** 31)];
  const bigEdges = [0n, 1n, -1n, 255n, 256n, 2n ** 24n + 1n, 2n ** 31n, 2n ** 32n + 5n, 2n ** 53n + 1n, 2n ** 60n + 2n ** 36n + 1n, 2n ** 63n - 1n, -(2n ** 63n), -12345678901n];
  switch (dtype) {
    case 'float32':
      return floats32();
    case 'float64': {
      const extra = [1e300, -1e300, 0.1, 2 ** -1074, 1 + 2 ** -30, 1 + 2 ** -11 + 2 ** -40, 2147483647.9, 4294967295.5, 2 ** 63, 2 ** 64, 2 ** 53 + 2, 65519.99999];
      return Float64Array.from([...floats32().subarray(0, -TAIL.length), ...extra, ...TAIL]);
    }
    case 'float16':
    case 'bfloat16': {
      const toBits = dtype === 'float16' ? float32ToFloat16Array : float32ToBfloat16Array;
      return Uint16Array.from([...Array.from({ length: 65536 }, (_, i) => i), ...toBits(Float32Array.from(TAIL))]);
    }
    case 'int8':
      return Int8Array.from([...intEdges, ...ints]);
    case 'uint8':
    case 'bool':
      return dtype === 'bool' ? Uint8Array.from([0, 1, 1, 0, 1]) : Uint8Array.from([...intEdges, ...ints]);
    case 'int16':
      return Int16Array.from([...intEdges, ...ints]);
    case 'uint16':
      return Uint16Array.from([...intEdges, ...ints]);
    case 'int32':
      return Int32Array.from([...intEdges, ...ints]);
    case 'uint32':
      return Uint32Array.from([...intEdges, ...ints]);
    case 'int64':
      return BigInt64Array.from([...bigEdges, ...ints.map((v) => BigInt(v) * 1234567891n)]);
    case 'uint64':
      return BigUint64Array.from([...bigEdges, ...ints.map((v) => BigInt(v) * 1234567891n)], (v) => BigInt.asUintN(64, v));
    case 'int4':
      return packInt4([-8, -7, -1, 0, 1, 6, 7, 3, -5]);
    case 'uint4':
      return packInt4([0, 1, 7, 8, 9, 14, 15, 3, 5]);
  }
}

const elementCount = (dtype: NumericDType, data: TensorData) => (dtype === 'int4' || dtype === 'uint4' ? 9 : data.length);

/** The first `n` elements (n <= 1) of a source, for the rank-0 and zero-size runs. */
function head(dtype: NumericDType, data: TensorData, n: number): TensorData {
  if (dtype === 'int4' || dtype === 'uint4') return n === 0 ? new Uint8Array(0) : Uint8Array.of((data as Uint8Array)[0]! & 0x0f);
  return (data as Float32Array).slice(0, n) as TensorData;
}

async function ortCast(from: NumericDType, to: NumericDType, shape: number[], data: TensorData): Promise<TensorData> {
  const widen = WIDEN[to];
  const nodes = [
    { op: 'Cast', inputs: ['x'], outputs: [widen ? 'm' : 'y'], attrs: { to: DTYPE_INFO[to].onnx } },
    ...(widen ? [{ op: 'Cast', inputs: ['m'], outputs: ['y'], attrs: { to: DTYPE_INFO[widen].onnx } }] : []),
  ];
  const viaInit = NO_JS.has(from);
  const init: InitSpec[] = viaInit ? [{ name: 'x', dtype: from, shape, data: data as ArrayBufferView }] : [];
  const model = buildModel({
    nodes,
    inputs: viaInit ? [] : [{ name: 'x', dtype: from, shape }],
    outputs: [{ name: 'y', dtype: widen ?? to, shape }],
    initializers: init,
  });
  const feeds: Record<string, ort.Tensor> = viaInit ? {} : { x: new ort.Tensor(from as 'float32', data as Float32Array, shape) };
  return (await runModel(model, feeds))['y']!.data as TensorData;
}

function ours(from: NumericDType, to: NumericDType, shape: number[], data: TensorData): TensorData {
  const y = castTensor(createTensor(from, shape, data as never), to);
  const widen = WIDEN[to];
  return (widen ? castTensor(y, widen) : y).data;
}

/** Integer view of a float array so comparisons see bits; bool arrays from onnxruntime are 0/1 numbers. */
function words(a: TensorData): ArrayLike<number | bigint> {
  if (a instanceof Float32Array) return new Uint32Array(a.buffer, a.byteOffset, a.length);
  if (a instanceof Float64Array) return new BigUint64Array(a.buffer, a.byteOffset, a.length);
  return Array.from(a as ArrayLike<number | bigint | boolean>, (v) => (typeof v === 'boolean' ? Number(v) : v));
}

function firstDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('castTensor matches onnxruntime-node Cast for every dtype pair, bit for bit', () => {
  for (const from of DTYPES) {
    it(`${from} -> every dtype (full, rank 0, zero-size)`, async () => {
      const data = source(from);
      const n = elementCount(from, data);
      const runs: [number[], TensorData][] = [
        [[n], data],
        [[], head(from, data, 1)],
        [[0, 3], head(from, data, 0)],
      ];
      for (const to of DTYPES) {
        for (const [shape, x] of runs) {
          const [a, b] = [words(ours(from, to, shape, x)), words(await ortCast(from, to, shape, x))];
          const i = firstDiff(a, b);
          const srcAt = from === 'int4' || from === 'uint4' ? '(packed)' : String((x as ArrayLike<unknown>)[i]);
          expect(i, `${from} -> ${to} [${shape}]: first mismatch at ${i} (input ${srcAt}): ours ${String(a[i])}, onnxruntime ${String(b[i])}`).toBe(-1);
        }
      }
    });
  }
});
