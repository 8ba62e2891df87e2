import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DTYPES, type DType, type Tensor } from '@lepton/tensor-core';
import { decodeTensorProto, encodeTensorProto, tensorFromProto, tensorToProto } from '../src';

/** One tensor per dtype, with the edge values each one has. */
function sample(dtype: DType): Tensor {
  switch (dtype) {
    case 'float32':
      return { dtype, shape: [5], data: new Float32Array([0, -0, 1.5, Infinity, NaN]) };
    case 'float64':
      return { dtype, shape: [3], data: new Float64Array([Math.PI, -1e300, 5e-324]) };
    case 'float16':
    case 'bfloat16':
      // 1.0, -0, a NaN with a payload, the largest finite value.
      return { dtype, shape: [2, 2], data: new Uint16Array(dtype === 'float16' ? [0x3c00, 0x8000, 0x7e01, 0x7bff] : [0x3f80, 0x8000, 0x7fc1, 0x7f7f]) };
    case 'int8':
      return { dtype, shape: [3], data: new Int8Array([-128, 0, 127]) };
    case 'uint8':
      return { dtype, shape: [3], data: new Uint8Array([0, 1, 255]) };
    case 'int16':
      return { dtype, shape: [2], data: new Int16Array([-32768, 32767]) };
    case 'uint16':
      return { dtype, shape: [2], data: new Uint16Array([0, 65535]) };
    case 'int32':
      return { dtype, shape: [2], data: new Int32Array([-2147483648, 2147483647]) };
    case 'uint32':
      return { dtype, shape: [2], data: new Uint32Array([0, 4294967295]) };
    case 'int64':
      return { dtype, shape: [4], data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n, -1n, 2n ** 63n - 1n]) };
    case 'uint64':
      return { dtype, shape: [3], data: new BigUint64Array([0n, 2n ** 53n + 1n, 2n ** 64n - 1n]) };
    case 'bool':
      return { dtype, shape: [3], data: new Uint8Array([1, 0, 1]) };
    case 'int4':
    case 'uint4':
      // Three elements packed low nibble first: 0x21 = [1, 2], 0x07 = [7, pad].
      return { dtype, shape: [3], data: new Uint8Array([0x21, 0x07]) };
    case 'string':
      return { dtype, shape: [3], data: ['', 'héllo', '日本 🎉'] };
  }
}

function bytesOf(t: Tensor): unknown {
  if (t.dtype === 'string') return t.data;
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

describe('TensorProto <-> Tensor', () => {
  for (const dtype of DTYPES) {
    for (const raw of [true, false]) {
      it(`${dtype} round-trips bit for bit through ${raw ? 'raw_data' : 'the typed field'} and the protobuf bytes`, () => {
        const t = sample(dtype);
        const back = tensorFromProto(decodeTensorProto(encodeTensorProto(tensorToProto('x', t, { raw }))));
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(t.shape);
        expect(back.data.constructor).toBe(t.data.constructor);
        expect(bytesOf(back)).toEqual(bytesOf(t));
      });
    }
  }

  it('reads int64 beyond 2^53 exactly from int64_data', () => {
    const tp = tensorToProto('big', { dtype: 'int64', shape: [1], data: new BigInt64Array([9007199254740993n]) }, { raw: false });
    const back = tensorFromProto(decodeTensorProto(encodeTensorProto(tp)));
    expect((back.data as BigInt64Array)[0]).toBe(9007199254740993n);
  });

  it('rejects types Lepton has no storage for, naming the type', () => {
    const tp = tensorToProto('c', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    tp.dataType = 14;
    expect(() => tensorFromProto(tp)).toThrow(/complex64/);
  });

  it('bytes that are not a TensorProto are TENSOR_ENCODING_INVALID naming their length (an input file, not a model: was MODEL_LOAD_FAILED)', () => {
    for (const text of ['{"a":1}', 'hello world']) {
      expect(() => decodeTensorProto(new TextEncoder().encode(text))).toThrow(
        expect.objectContaining({ code: 'TENSOR_ENCODING_INVALID', message: expect.stringMatching(new RegExp(`^bytes \\(${text.length}\\) are not an ONNX TensorProto: `)) }),
      );
    }
  });

  it('rejects data that does not fill the dims', () => {
    const tp = tensorToProto('short', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
    tp.dims = [3];
    expect(() => tensorFromProto(tp)).toThrow(expect.objectContaining({ code: 'TENSOR_SIZE_MISMATCH' }));
  });

  const pb = '/usr/share/libonnx-testdata/data/node/test_cast_FLOAT_to_FLOAT16/test_data_set_0/output_0.pb';
  it.skipIf(!existsSync(pb))('decodes a real float16 test tensor from Debian libonnx-testdata', () => {
    const t = tensorFromProto(decodeTensorProto(new Uint8Array(readFileSync(pb))));
    expect(t.dtype).toBe('float16');
    expect(t.shape).toEqual([3, 4]);
    expect(t.data).toBeInstanceOf(Uint16Array);
  });
});
