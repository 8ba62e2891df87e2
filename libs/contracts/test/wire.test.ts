import { describe, expect, it } from 'vitest';
import { LeptonError, type Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor, type WireFormat, WireTensorSchema } from '../src';

const FORMATS: WireFormat[] = ['base64', 'array'];

/** Encode, go through JSON text as a client would, validate the schema, decode. */
function roundTrip(t: Tensor, format: WireFormat): Tensor {
  const json = JSON.stringify(encodeWireTensor('x', t, format));
  return decodeWireTensor(WireTensorSchema.parse(JSON.parse(json)));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LeptonError);
    return (e as LeptonError).code;
  }
  return undefined;
}

function errorOf(fn: () => unknown): LeptonError {
  try {
    fn();
  } catch (e) {
    return e as LeptonError;
  }
  throw new Error('expected a LeptonError');
}

describe('field cases', () => {
  it('int64 extremes and values above 2^53 survive both forms', () => {
    const values = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '16000'];
    const t: Tensor = { dtype: 'int64', shape: [4], data: BigInt64Array.from(values.map((v) => BigInt(v))) };
    for (const format of FORMATS) {
      const back = roundTrip(t, format);
      expect(Array.from(back.data as BigInt64Array, String)).toEqual(values);
    }
    expect(encodeWireTensor('x', t, 'array').data).toEqual(values);
  });

  it('int64 / uint64 neighbours: bigints past 2^53 and 2^63 in both forms, and numbers past 2^53 refused with why', () => {
    const u: Tensor = { dtype: 'uint64', shape: [4], data: BigUint64Array.of(2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 0n) };
    for (const format of FORMATS) expect(Array.from(roundTrip(u, format).data as BigUint64Array)).toEqual(Array.from(u.data as BigUint64Array));
    expect(encodeWireTensor('u', u, 'array').data).toEqual(['18446744073709551615', '9223372036854775808', '9007199254740993', '0']);
    // A JSON number past 2^53 has lost digits before we see it (9007199254740993 parses as ...992): refused, saying so.
    const parsed = JSON.parse('{"data":[9007199254740993]}') as { data: number[] };
    const e = errorOf(() => decodeWireTensor({ name: 'sr', dtype: 'int64', shape: [1], data: parsed.data }));
    expect(e.code).toBe('TENSOR_ENCODING_INVALID');
    expect(e.message).toContain("tensor 'sr' data[0] is 9007199254740992; expected");
    expect(e.message).toContain('has lost digits by the time it is parsed, so send 64-bit integers as decimal strings');
  });

  it('float32 specials are identical by Object.is and 0.1 keeps its float32 bits', () => {
    const values = [NaN, -0, Infinity, -Infinity, 1, 0.1];
    const t: Tensor = { dtype: 'float32', shape: [6], data: Float32Array.from(values) };
    for (const format of FORMATS) {
      const back = roundTrip(t, format).data as Float32Array;
      expect(back).toBeInstanceOf(Float32Array);
      Array.from(t.data as Float32Array).forEach((v, i) => expect(Object.is(back[i], v)).toBe(true));
      expect(new Uint32Array(back.buffer)[5]).toBe(0x3dcccccd); // float32(0.1)
    }
    const wire = encodeWireTensor('x', t, 'array');
    expect(wire.data).toEqual(['NaN', '-0', 'Infinity', '-Infinity', 1, 0.1]);
    expect(JSON.stringify(wire.data)).toBe('["NaN","-0","Infinity","-Infinity",1,0.1]');
  });

  it('base64-buffer-pool: decodes into its own 16-byte buffer, whatever Node\'s pool holds', () => {
    // Node's Buffer.from(base64) of a short string is a slice of a shared 8 KiB pool: viewing its .buffer reads
    // the whole pool (2048 floats of other data). Our decoder never goes through Buffer; the bytes are its own.
    const pooled = Buffer.from('AACAPgAAAD8AAEA/AACAPw==', 'base64');
    expect(pooled.buffer.byteLength).toBeGreaterThan(16); // it is a pool slice (the fault's precondition)
    const t = decodeWireTensor({ name: 'x', dtype: 'float32', shape: [4], data: 'AACAPgAAAD8AAEA/AACAPw==' });
    expect(Array.from(t.data as Float32Array)).toEqual([0.25, 0.5, 0.75, 1]);
    expect([(t.data as Float32Array).byteOffset, (t.data as Float32Array).buffer.byteLength]).toEqual([0, 16]);
    expect(encodeWireTensor('x', t).data).toBe('AACAPgAAAD8AAEA/AACAPw==');
    // The other way: a tensor whose storage is a view into a pooled Buffer encodes only its own 16 bytes.
    const pool = Buffer.alloc(64, 0xee);
    pooled.copy(pool, 8);
    const view: Tensor = { dtype: 'float32', shape: [4], data: new Float32Array(pool.buffer, pool.byteOffset + 8, 4) };
    expect(encodeWireTensor('x', view).data).toBe('AACAPgAAAD8AAEA/AACAPw==');
    expect(encodeWireTensor('x', view, 'array').data).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('base64-buffer-pool neighbours: every numeric dtype from views at odd offsets of a pooled buffer', () => {
    const cases: Tensor[] = [
      { dtype: 'float64', shape: [2], data: Float64Array.of(-0, 1e300) },
      { dtype: 'float16', shape: [3], data: Uint16Array.of(0x3c00, 0x7e01, 0x8000) },
      { dtype: 'int64', shape: [2], data: BigInt64Array.of(2n ** 53n + 1n, -(2n ** 63n)) },
      { dtype: 'uint64', shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
      { dtype: 'int32', shape: [2], data: Int32Array.of(-1, 2 ** 31 - 1) },
      { dtype: 'int16', shape: [3], data: Int16Array.of(-32768, 1, 32767) },
    ];
    for (const t of cases) {
      const text = encodeWireTensor('x', t).data as string;
      const bytes = Buffer.from(text, 'base64');
      for (const offset of [1, 3, 5, 7]) {
        // The same bytes at an odd offset inside a larger buffer (a typed view there would throw or misread).
        const pool = Buffer.alloc(bytes.length + 16, 0xab);
        bytes.copy(pool, offset);
        const odd = pool.subarray(offset, offset + bytes.length);
        const again = encodeWireTensor('x', { dtype: 'uint8', shape: [odd.length], data: odd }).data as string;
        expect(again, `${t.dtype} at ${offset}`).toBe(text);
        const back = decodeWireTensor({ name: 'x', dtype: t.dtype, shape: [...t.shape], data: again });
        expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
        expect((back.data as Uint8Array).byteOffset).toBe(0);
      }
    }
  });

  it('accepts a scalar int64 as number, decimal string or bigint', () => {
    for (const v of [16000, '16000', 16000n]) {
      const t = decodeWireTensor({ name: 'sr', dtype: 'int64', shape: [], data: [v] });
      expect(t.shape).toEqual([]);
      expect(Array.from(t.data as BigInt64Array)).toEqual([16000n]);
    }
  });

  it('float16 and bfloat16 array forms show values while base64 carries bits', () => {
    const half: Tensor = { dtype: 'float16', shape: [4], data: Uint16Array.from([0x3c00, 0x2e66, 0xfc00, 0x8000]) };
    expect(encodeWireTensor('h', half, 'array').data).toEqual([1, 0.1, '-Infinity', '-0']);
    expect(encodeWireTensor('h', half).data).toBe('ADxmLgD8AIA=');
    const bf: Tensor = { dtype: 'bfloat16', shape: [2], data: Uint16Array.from([0x3f80, 0x3dcd]) };
    expect(encodeWireTensor('b', bf, 'array').data).toEqual([1, 0.1]);
    const back = decodeWireTensor({ name: 'h', dtype: 'float16', shape: [2], data: [1, 0.1] });
    expect(Array.from(back.data as Uint16Array)).toEqual([0x3c00, 0x2e66]);
  });

  it('bool, int4 and string tensors use their readable forms', () => {
    const b: Tensor = { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) };
    expect(encodeWireTensor('b', b, 'array').data).toEqual([true, false, true]);
    // int4 packs low nibble first: [-1, 7, -8] -> 0x7f, 0x08.
    const q = decodeWireTensor({ name: 'q', dtype: 'int4', shape: [3], data: [-1, 7, -8] });
    expect(Array.from(q.data as Uint8Array)).toEqual([0x7f, 0x08]);
    expect(encodeWireTensor('q', q, 'array').data).toEqual([-1, 7, -8]);
    const s: Tensor = { dtype: 'string', shape: [2], data: ['héllo', '🙂'] };
    const wire = encodeWireTensor('s', s);
    // KServe BYTES: 4-byte little-endian length then UTF-8.
    expect(Buffer.from(wire.data as string, 'base64')).toEqual(
      Buffer.from([6, 0, 0, 0, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 4, 0, 0, 0, 0xf0, 0x9f, 0x99, 0x82]),
    );
    expect(decodeWireTensor(wire).data).toEqual(['héllo', '🙂']);
  });
});

describe('storage', () => {
  it('encodes views at odd offsets of a shared buffer with their own bytes only', () => {
    const pool = new Uint8Array(64).map((_, i) => i);
    const view = pool.subarray(3, 7);
    expect(encodeWireTensor('v', { dtype: 'uint8', shape: [4], data: view }).data).toBe(Buffer.from([3, 4, 5, 6]).toString('base64'));
    const halfView = new Uint16Array(pool.buffer, 2, 2);
    expect(encodeWireTensor('h', { dtype: 'uint16', shape: [2], data: halfView }).data).toBe(Buffer.from([2, 3, 4, 5]).toString('base64'));
  });

  it('decodes into fresh, aligned buffers it owns', () => {
    for (const format of FORMATS) {
      const t = roundTrip({ dtype: 'float64', shape: [3], data: Float64Array.from([1, 2, 3]) }, format);
      const d = t.data as Float64Array;
      expect(d.byteOffset).toBe(0);
      expect(d.buffer.byteLength).toBe(24);
    }
  });
});

describe('errors', () => {
  it('rejects a tensor above the limit before allocating, naming the limit', () => {
    // 2^30 float32 would be 4 GiB: the error must come from the shape alone.
    const e = errorOf(() => decodeWireTensor({ name: 'big', dtype: 'float32', shape: [1 << 30], data: 'AAAA' }));
    expect(e.code).toBe('TENSOR_TOO_LARGE');
    expect(e.message).toContain("'big'");
    expect(e.message).toContain(String(64 * 1024 * 1024));
    expect(codeOf(() => decodeWireTensor({ name: 'x', dtype: 'uint8', shape: [8], data: 'AAAAAAAAAAA=' }, { maxBytes: 4 }))).toBe(
      'TENSOR_TOO_LARGE',
    );
    expect(codeOf(() => decodeWireTensor({ name: 's', dtype: 'string', shape: [1], data: ['abcdef'] }, { maxBytes: 4 }))).toBe(
      'TENSOR_TOO_LARGE',
    );
  });

  it('checks data length against dtype x shape', () => {
    const e = errorOf(() => decodeWireTensor({ name: 'x', dtype: 'float32', shape: [2, 2], data: 'AACAPwAAgD8=' }));
    expect(e.code).toBe('TENSOR_SIZE_MISMATCH');
    expect(e.message).toBe("tensor 'x': float32 [2, 2] needs 16 bytes, base64 data holds 8");
    expect(codeOf(() => decodeWireTensor({ name: 'x', dtype: 'int32', shape: [3], data: [1, 2] }))).toBe('TENSOR_SIZE_MISMATCH');
  });

  it('refuses a wrong element count before looking at any element, through the schema too', () => {
    // A bad element at the end: were elements decoded (or checked by the schema) first, this would be
    // TENSOR_ENCODING_INVALID or a zod error, not the size mismatch.
    const data: unknown[] = new Array(100_001).fill(0.5);
    data[100_000] = { not: 'a number' };
    const wire = WireTensorSchema.parse({ name: 'x', dtype: 'float32', shape: [1, 100_000], data });
    const e = errorOf(() => decodeWireTensor(wire));
    expect(e.code).toBe('TENSOR_SIZE_MISMATCH');
    expect(e.message).toBe("tensor 'x': float32 [1, 100000] needs 100000 values, got 100001");
    expect(e.details).toEqual({ tensor: 'x', expected: 100000, received: 100001 });
    const strings = WireTensorSchema.parse({ name: 's', dtype: 'string', shape: [2], data: ['a', 'b', null] });
    expect(codeOf(() => decodeWireTensor(strings))).toBe('TENSOR_SIZE_MISMATCH');
    // With the right count the same element is reported by index.
    const right = WireTensorSchema.parse({ name: 'x', dtype: 'float32', shape: [1, 100_001], data });
    const bad = errorOf(() => decodeWireTensor(right));
    expect(bad.code).toBe('TENSOR_ENCODING_INVALID');
    expect(bad.message).toMatch(/^tensor 'x' data\[100000\] is \{"not":"a number"\}; expected a number/);
    expect(WireTensorSchema.safeParse({ name: 'x', dtype: 'float32', shape: [1], data: 5 }).success).toBe(false);
  });

  it('names the tensor and index of a bad element', () => {
    const cases: [string, unknown[], string][] = [
      ['int64', ['12', '9223372036854775808'], "tensor 't' data[1] is \"9223372036854775808\"; expected a int64 in"],
      ['int64', [1, 2 ** 53 + 2], "tensor 't' data[1] is 9007199254740994"],
      ['int64', ['1.5'], "tensor 't' data[0] is \"1.5\""],
      ['uint8', [0, 256], "tensor 't' data[1] is 256; expected an integer in [0, 255] for uint8"],
      ['int32', [0.5], "tensor 't' data[0] is 0.5"],
      ['float32', [1, 'nan'], "tensor 't' data[1] is \"nan\"; expected a number or one of"],
      ['bool', [true, 'yes'], "tensor 't' data[1] is \"yes\"; expected true or false (or 1 or 0)"],
      ['int4', [8], "tensor 't' data[0] is 8; expected an integer in [-8, 7] for int4"],
      ['string', [3], "tensor 't' data[0] is 3; expected a string"],
    ];
    for (const [dtype, data, message] of cases) {
      const e = errorOf(() => decodeWireTensor({ name: 't', dtype, shape: [data.length], data: data as never }));
      expect(e.code).toBe('TENSOR_ENCODING_INVALID');
      expect(e.message).toContain(message);
    }
  });

  it('shows at most 64 characters of a bad element (a 100 kB value made a 200 kB error response)', () => {
    const digits = '1'.repeat(100_000);
    const e = errorOf(() => decodeWireTensor({ name: 'sr', dtype: 'int64', shape: [], data: [digits] }));
    expect(e.code).toBe('TENSOR_ENCODING_INVALID');
    expect(e.message).toBe(
      `tensor 'sr' data[0] is "${'1'.repeat(63)}... (100002 characters); expected a int64 in [-9223372036854775808, 9223372036854775807] as a decimal string, a safe integer or a bigint`,
    );
    const f = errorOf(() => decodeWireTensor({ name: 'x', dtype: 'float32', shape: [1], data: ['x'.repeat(1000)] }));
    expect(f.message.length).toBeLessThan(200);
  });

  it('rejects bad base64, unknown dtypes and bad shapes', () => {
    const e = errorOf(() => decodeWireTensor({ name: 'x', dtype: 'uint8', shape: [3], data: 'AA*A' }));
    expect(e.code).toBe('TENSOR_ENCODING_INVALID');
    expect(e.message).toContain('"*" at position 2');
    expect(codeOf(() => decodeWireTensor({ name: 'x', dtype: 'complex64', shape: [1], data: [] }))).toBe('DTYPE_UNSUPPORTED');
    expect(codeOf(() => decodeWireTensor({ name: 'x', dtype: 'uint8', shape: [-1], data: [] }))).toBe('SHAPE_INVALID');
    expect(codeOf(() => decodeWireTensor({ name: 'x', dtype: 'uint8', shape: [1.5], data: [] }))).toBe('SHAPE_INVALID');
    // Elements that claim more bytes than there are.
    expect(codeOf(() => decodeWireTensor({ name: 's', dtype: 'string', shape: [1], data: 'CgAAAGE=' }))).toBe('TENSOR_SIZE_MISMATCH');
  });

  it('rejects storage that does not match the shape on encode', () => {
    expect(codeOf(() => encodeWireTensor('x', { dtype: 'float32', shape: [3], data: new Float32Array(2) }))).toBe(
      'TENSOR_SIZE_MISMATCH',
    );
  });
});
