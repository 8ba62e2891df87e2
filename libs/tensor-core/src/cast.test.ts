import { describe, expect, it } from 'vitest';
import { castTensor } from './cast';
import { bigintToFloat32 } from './cast-scalar';
import { createTensor } from './tensor';
import type { DType, NumericDType, TensorData } from './dtype';
import { buildModel, ort, runModel } from '../test/support/onnx-model';

/** Edge cases plus ordinary values; repeated at shifted offsets so vectorized and scalar-tail code both see them. */
const EDGES = [
  0, -0, 1, -1, 1.5, -1.5, 2.5, -2.5, 2.7, -2.7, 0.49999997, 7.5, -8.5, 15.5, 16, 127, 127.9, 128, -128, -129, 255, 255.5,
  256, 300, -300, 32767, 32768, -32769, 65535, 65536, 70000, 2147483520, -2147483648, 3e9, -3e9, 4294967040, 1e10, -1e10,
  9.2e18, 1e19, -1e19, 1e-10, 0.1, -0.1, 65504, 65520, 1e5, NaN, Infinity, -Infinity,
];
// The last 8 values are in range for every target: onnxruntime converts a vector body and a scalar tail with
// different instructions, and for float -> uint32 the two disagree on NaN and out-of-range values (the tail gives
// the low 32 bits of an int64 conversion: NaN -> 0). castTensor reproduces the vector body.
const TAIL = [3, -4, 5.5, 100, 0.25, -0.75, 9, 1];
const X = new Float32Array([...EDGES, ...EDGES.slice(3), ...EDGES.slice(0, 17), 0, 0, 0, ...TAIL]);
// NaNs with the sign bit set and with a payload (JS NaN literals are all 0x7fc00000).
new Uint32Array(X.buffer).set([0xffc00000, 0x7f800001, 0xffa00000], X.length - 3 - TAIL.length);

const ORT_NAME: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  bool: 'bool',
};

async function ortCast(from: DType, to: DType, data: TensorData, via?: DType): Promise<TensorData> {
  const shape = [data.length];
  const nodes = via
    ? [
        { op: 'Cast', inputs: ['x'], outputs: ['m'], attrs: { to: dtypeCode(via) } },
        { op: 'Cast', inputs: ['m'], outputs: ['y'], attrs: { to: dtypeCode(to) } },
      ]
    : [{ op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: dtypeCode(to) } }];
  const model = buildModel({ nodes, inputs: [{ name: 'x', dtype: from, shape: ['n'] }], outputs: [{ name: 'y', dtype: to, shape: ['n'] }] });
  const out = await runModel(model, { x: new ort.Tensor(ORT_NAME[from]!, data as never, shape) });
  return out['y']!.data as TensorData;
}

const CODES: Partial<Record<DType, number>> = { bfloat16: 16, int4: 22, uint4: 21 };
function dtypeCode(d: DType): number {
  const known: Record<string, number> = { float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13 };
  return known[d] ?? CODES[d]!;
}

/** Element-wise identity; float arrays are compared on their bit patterns, so NaN signs and payloads count. */
function expectSame(ours: ArrayLike<unknown>, ref: ArrayLike<unknown>, input: ArrayLike<unknown>, label: string): void {
  expect(ours.length, label).toBe(ref.length);
  const bits = (a: ArrayLike<unknown>) =>
    a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a instanceof Float64Array ? new BigUint64Array(a.buffer, a.byteOffset, a.length) : a;
  const [x, y] = [bits(ours), bits(ref)];
  for (let i = 0; i < ref.length; i++) {
    if (!Object.is(x[i], y[i])) {
      throw new Error(`${label}: first mismatch at ${i} (input ${String(input[i])}): ours ${String(ours[i])}, onnxruntime ${String(ref[i])}`);
    }
  }
}

describe('castTensor vs onnxruntime-node 1.30 Cast (opset 21)', () => {
  const targets: NumericDType[] = ['float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'float64'];
  for (const to of targets) {
    it(`float32 -> ${to}`, async () => {
      const ours = castTensor(createTensor('float32', [X.length], X), to).data;
      expectSame(ours as ArrayLike<unknown>, (await ortCast('float32', to, X)) as ArrayLike<unknown>, X, `float32->${to}`);
    });
  }

  for (const from of ['float16', 'int8', 'uint8', 'int32', 'int64', 'bool', 'uint32', 'float64'] as const) {
    it(`${from} -> float32 (and ${from} values from float32 first)`, async () => {
      // The source values are what onnxruntime itself makes of X, so both sides start from the same tensor.
      const src = (await ortCast('float32', from, X)) as TensorData;
      const ours = castTensor(createTensor(from, [X.length], src as never), 'float32').data;
      expectSame(ours, (await ortCast(from, 'float32', src)) as ArrayLike<unknown>, src as ArrayLike<unknown>, `${from}->float32`);
    });
  }

  it('float32 -> int4/uint4 -> float32 (onnxruntime rounds half away from zero and wraps to the nibble)', async () => {
    for (const via of ['int4', 'uint4'] as const) {
      const packed = castTensor(createTensor('float32', [X.length], X), via);
      const ours = castTensor(packed, 'float32').data;
      expectSame(ours, (await ortCast('float32', 'float32', X, via)) as Float32Array, X, `float32->${via}->float32`);
    }
  });

  it('float32 -> bfloat16 -> float32 (onnxruntime-node has no bfloat16 tensors, so round-trip through the graph)', async () => {
    const x = new Float32Array([...X, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 3.4028234663852886e38, 1e-40]);
    const ours = castTensor(castTensor(createTensor('float32', [x.length], x), 'bfloat16'), 'float32').data;
    expectSame(ours, (await ortCast('float32', 'float32', x, 'bfloat16')) as Float32Array, x, 'float32->bfloat16->float32');
  });

  it('float64 -> float16 rounds through float32 like onnxruntime; int64 -> float32 is correctly rounded', async () => {
    const d = new Float64Array([1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -11, 0.1, 65519.99999, 1e300, -1e-300]);
    expectSame(castTensor(createTensor('float64', [d.length], d), 'float16').data, (await ortCast('float64', 'float16', d)) as Uint16Array, d, 'float64->float16');
    const big = new BigInt64Array([2n ** 60n + 2n ** 36n + 1n, 2n ** 53n + 2n ** 29n + 1n, (1n << 24n) + 1n, -(2n ** 63n), 2n ** 63n - 1n, -12345678901n]);
    expectSame(castTensor(createTensor('int64', [big.length], big), 'float32').data, (await ortCast('int64', 'float32', big)) as Float32Array, big, 'int64->float32');
    expectSame(castTensor(createTensor('int64', [big.length], big), 'int8').data, (await ortCast('int64', 'int8', big)) as Int8Array, big, 'int64->int8');
  });

  it('int32 -> narrower integers wrap like onnxruntime', async () => {
    const v = new Int32Array([300, -129, 65541, -1, 2147483647, -2147483648, 16777217, 7, -8]);
    for (const to of ['int8', 'uint8', 'int16', 'uint16', 'uint32', 'float16', 'bool'] as const) {
      expectSame(castTensor(createTensor('int32', [v.length], v), to).data as ArrayLike<unknown>, (await ortCast('int32', to, v)) as ArrayLike<unknown>, v, `int32->${to}`);
    }
    for (const via of ['int4', 'uint4'] as const) {
      const ours = castTensor(castTensor(createTensor('int32', [v.length], v), via), 'int32').data;
      expectSame(ours, (await ortCast('int32', 'int32', v, via)) as Int32Array, v, `int32->${via}->int32`);
    }
  });
});

describe('castTensor', () => {
  it('packs int4 low nibble first and clears the unused high nibble of an odd length', () => {
    const out = new Uint8Array([0xff, 0xff]);
    const t = castTensor(createTensor('int32', [3], new Int32Array([1, -1, 7])), 'int4', out);
    expect(t.data).toBe(out);
    expect(Array.from(out)).toEqual([0xf1, 0x07]);
    expect(Array.from(castTensor(t, 'int8').data)).toEqual([1, -1, 7]);
    expect(Array.from(castTensor(t, 'uint8').data)).toEqual([1, 255, 7]);
  });

  it('casts float16 bits, int64 BigInts and bools', () => {
    const h = castTensor(createTensor('float32', [3], new Float32Array([1, -2, 0.1])), 'float16');
    expect(Array.from(h.data)).toEqual([0x3c00, 0xc000, 0x2e66]);
    expect(Array.from(castTensor(h, 'int64').data)).toEqual([1n, -2n, 0n]);
    expect(Array.from(castTensor(createTensor('uint64', [2], new BigUint64Array([2n ** 64n - 1n, 5n])), 'int64').data)).toEqual([-1n, 5n]);
    expect(Array.from(castTensor(createTensor('bool', [2], new Uint8Array([0, 1])), 'float64').data)).toEqual([0, 1]);
    expect(bigintToFloat32(-(2n ** 60n + 2n ** 36n + 1n))).toBe(-(2 ** 60 + 2 ** 37));
  });

  it('copies on a same-dtype cast and keeps the shape', () => {
    const src = createTensor('int16', [2, 2], new Int16Array([1, 2, 3, 4]));
    const t = castTensor(src, 'int16');
    expect(t.data).not.toBe(src.data);
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
  });

  it('rejects strings and a wrong-sized output buffer', () => {
    expect(() => castTensor(createTensor('string', [1], ['a']), 'float32')).toThrow(/cannot cast string to float32/);
    expect(() => castTensor(createTensor('float32', [3]), 'int8', new Int8Array(2))).toThrow(/holds 2 elements; expected 3/);
  });
});
