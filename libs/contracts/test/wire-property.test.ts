import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DTYPES, bfloat16BitsToFloat32, float16BitsToFloat32, type DType, type Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor, WireTensorSchema } from '../src';

// Every dtype, random shapes (including rank 0 and zero-size dims), random bit patterns: base64 must return the
// storage bit for bit; the array form must return the same values (NaN payloads are the one thing it drops).

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 });

function dataArb(dtype: DType, n: number): fc.Arbitrary<Tensor['data']> {
  const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n });
  const bytes = (k: number) => fc.uint8Array({ minLength: k, maxLength: k });
  switch (dtype) {
    case 'float32':
      return bytes(n * 4).map((b) => new Float32Array(b.buffer));
    case 'float64':
      return bytes(n * 8).map((b) => new Float64Array(b.buffer));
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return ints(0, 65535).map((v) => Uint16Array.from(v));
    case 'int8':
      return ints(-128, 127).map((v) => Int8Array.from(v));
    case 'uint8':
      return ints(0, 255).map((v) => Uint8Array.from(v));
    case 'bool':
      return fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((v) => Uint8Array.from(v, Number));
    case 'int16':
      return ints(-32768, 32767).map((v) => Int16Array.from(v));
    case 'int32':
      return ints(-(2 ** 31), 2 ** 31 - 1).map((v) => Int32Array.from(v));
    case 'uint32':
      return ints(0, 2 ** 32 - 1).map((v) => Uint32Array.from(v));
    case 'int64':
      return fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n }).map((v) => BigInt64Array.from(v));
    case 'uint64':
      return fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: n, maxLength: n }).map((v) => BigUint64Array.from(v));
    case 'int4':
    case 'uint4':
      // Packed two per byte; an odd count leaves the last high nibble zero.
      return bytes(Math.ceil(n / 2)).map((b) => {
        if (n % 2 === 1) b[b.length - 1] = b[b.length - 1]! & 15;
        return b;
      });
    case 'string':
      return fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { minLength: n, maxLength: n });
  }
}

const tensorArb = (dtype: DType): fc.Arbitrary<Tensor> =>
  shapeArb.chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return dataArb(dtype, n).map((data) => ({ dtype, shape, data }) as Tensor);
  });

function viaJson(t: Tensor, format: 'base64' | 'array'): Tensor {
  const text = JSON.stringify(encodeWireTensor('p', t, format));
  return decodeWireTensor(WireTensorSchema.parse(JSON.parse(text)));
}

function sameValues(dtype: DType, a: Tensor['data'], b: Tensor['data']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const value = dtype === 'float16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
      const vx = value(x as number);
      if (Number.isNaN(vx) ? !Number.isNaN(value(y as number)) : x !== y) return false;
    } else if (!Object.is(x, y)) {
      return false;
    }
  }
  return true;
}

describe.each(DTYPES.map((d) => [d]))('%s round trip', (dtype) => {
  it('base64 returns the same storage bit for bit', () => {
    fc.assert(
      fc.property(tensorArb(dtype), (t) => {
        const back = viaJson(t, 'base64');
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(t.shape);
        if (dtype === 'string') expect(back.data).toEqual(t.data);
        else expect(Buffer.from((back.data as Uint8Array).buffer)).toEqual(Buffer.from((t.data as Uint8Array).buffer));
      }),
      { numRuns: 60 },
    );
  });

  it('array form returns the same values', () => {
    fc.assert(
      fc.property(tensorArb(dtype), (t) => {
        const back = viaJson(t, 'array');
        expect(back.shape).toEqual(t.shape);
        expect(back.data.constructor).toBe(t.data.constructor);
        expect(sameValues(dtype, t.data, back.data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
