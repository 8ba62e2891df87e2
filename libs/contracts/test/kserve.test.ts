import { describe, expect, it } from 'vitest';
import type { Tensor } from '@lepton/tensor-core';
import {
  BinaryCursor,
  KserveInferRequestSchema,
  joinKserveBody,
  readKserveTensor,
  splitKserveBody,
  writeKserveTensor,
  type KserveTensor,
} from '../src';

const enc = new TextEncoder();
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
};

const errorOf = (f: () => unknown): { code: string; message: string; details?: unknown } => {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string; details?: unknown };
  }
  throw new Error('expected an error');
};

/** Decode every input of a request body the way the server does. */
function decodeRequest(body: Uint8Array, headerLength?: number): Record<string, Tensor> {
  const frame = splitKserveBody(body, headerLength);
  const req = KserveInferRequestSchema.parse(frame.header);
  const cursor = new BinaryCursor(frame.binary);
  const out: Record<string, Tensor> = {};
  for (const input of req.inputs) out[input.name] = readKserveTensor(input, cursor);
  cursor.finish();
  return out;
}

describe('the Open Inference Protocol specification examples', () => {
  // "Inference Request Examples" of the KServe v2 REST spec: a UINT32 [2, 2] input in JSON. (The spec's second
  // input, BOOL shape [3] with a single value, does not match its own shape; we keep the first.)
  it('decodes the JSON inference request example', () => {
    const body = enc.encode(
      JSON.stringify({ id: '42', inputs: [{ name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] }], outputs: [{ name: 'output0' }] }),
    );
    const { input0 } = decodeRequest(body);
    expect(input0!.dtype).toBe('uint32');
    expect(input0!.shape).toEqual([2, 2]);
    expect(Array.from(input0!.data as Uint32Array)).toEqual([1, 2, 3, 4]);
  });

  // "Tensor Data": [[1, 2], [4, 5]] may be sent nested or flattened row-major; both give the same tensor.
  it('accepts nested and flat tensor data alike (the spec\'s tensor data example)', () => {
    const nested = readKserveTensor({ name: 'a', shape: [2, 2], datatype: 'INT32', data: [[1, 2], [4, 5]] }, new BinaryCursor(new Uint8Array()));
    const flat = readKserveTensor({ name: 'a', shape: [2, 2], datatype: 'INT32', data: [1, 2, 4, 5] }, new BinaryCursor(new Uint8Array()));
    expect(Array.from(nested.data as Int32Array)).toEqual([1, 2, 4, 5]);
    expect(nested).toEqual(flat);
  });

  // Binary tensor data extension, request example: input0 UINT32 [2, 2] as 16 binary bytes and input1 BOOL [3]
  // as 3 binary bytes after a JSON header whose length is Inference-Header-Content-Length.
  it('decodes the binary request example (16 + 3 bytes after the header)', () => {
    const header = {
      model_name: 'mymodel',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }, { name: 'output1' }],
    };
    const input0 = new Uint8Array(new Uint32Array([1, 2, 3, 4]).buffer);
    const input1 = new Uint8Array([1, 0, 1]);
    const { body, headerLength } = joinKserveBody(header, [input0, input1]);
    expect(body.length).toBe(headerLength + 16 + 3);
    const got = decodeRequest(body, headerLength);
    expect(Array.from(got['input0']!.data as Uint32Array)).toEqual([1, 2, 3, 4]);
    expect(got['input1']).toEqual({ dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) });
    // Decoded tensors own aligned storage, not a view of the body.
    expect((got['input0']!.data as Uint32Array).buffer).not.toBe(body.buffer);
  });

  // Binary response example: output0 FP32 [3, 2] as 24 binary bytes; output1 (not asked as binary) in JSON.
  it('encodes the binary response example', () => {
    const out0: Tensor = { dtype: 'float32', shape: [3, 2], data: new Float32Array([1, 1.1, 2, 2.1, 3, 3.1]) };
    const out1: Tensor = { dtype: 'string', shape: [2], data: ['abc', 'de'] };
    const a = writeKserveTensor('output0', out0, true);
    const b = writeKserveTensor('output1', out1, false);
    expect(a.entry).toEqual({ name: 'output0', datatype: 'FP32', shape: [3, 2], parameters: { binary_data_size: 24 } });
    expect(b.entry).toEqual({ name: 'output1', datatype: 'BYTES', shape: [2], data: ['abc', 'de'] });
    const { body, headerLength } = joinKserveBody({ outputs: [a.entry, b.entry] }, [a.bytes!]);
    const frame = splitKserveBody(body, headerLength);
    const back = readKserveTensor((frame.header as { outputs: KserveTensor[] }).outputs[0]!, new BinaryCursor(frame.binary));
    expect(back).toEqual(out0);
  });

  it('writes BYTES binary data with 4-byte little-endian length prefixes', () => {
    const { bytes } = writeKserveTensor('s', { dtype: 'string', shape: [2], data: ['hi', 'ünï'] }, true);
    expect(Array.from(bytes!)).toEqual([2, 0, 0, 0, 104, 105, 5, 0, 0, 0, 0xc3, 0xbc, 0x6e, 0xc3, 0xaf]);
    const back = readKserveTensor({ name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: bytes!.length } }, new BinaryCursor(bytes!));
    expect(back.data).toEqual(['hi', 'ünï']);
  });
});

describe('field cases int64-beyond-2^53 and json-non-finite-and-negative-zero through KServe JSON and binary', () => {
  const int64: Tensor = { dtype: 'int64', shape: [4], data: BigInt64Array.from(['9007199254740993', '-9223372036854775808', '9223372036854775807', '16000'].map(BigInt)) };
  const uint64: Tensor = { dtype: 'uint64', shape: [3], data: BigUint64Array.of(2n ** 64n - 1n, 2n ** 63n, 5n) };
  const floats: Tensor = { dtype: 'float32', shape: [6], data: Float32Array.of(NaN, -0, Infinity, -Infinity, 1, 0.1) };

  /** Write every tensor as JSON or binary, join, split, parse and read back as the server (or our client) does. */
  function viaBody(tensors: Record<string, Tensor>, binary: boolean): { text: string; back: Record<string, Tensor> } {
    const entries: KserveTensor[] = [];
    const parts: Uint8Array[] = [];
    for (const [name, t] of Object.entries(tensors)) {
      const w = writeKserveTensor(name, t, binary);
      entries.push(w.entry);
      if (w.bytes) parts.push(w.bytes);
    }
    const { body, headerLength } = joinKserveBody({ id: 'odd', inputs: entries }, parts);
    // A pooled, oddly placed body, as a server's request buffer can be.
    const pool = new Uint8Array(body.length + 3).fill(0xcd);
    pool.set(body, 3);
    const text = new TextDecoder().decode(body.subarray(0, headerLength));
    return { text, back: decodeRequest(pool.subarray(3), headerLength) };
  }

  it.each([false, true])('every value comes back exactly (binary %s)', (binary) => {
    const { text, back } = viaBody({ i: int64, u: uint64, f: floats }, binary);
    expect(Array.from(back['i']!.data as BigInt64Array, String)).toEqual(['9007199254740993', '-9223372036854775808', '9223372036854775807', '16000']);
    expect(Array.from(back['u']!.data as BigUint64Array)).toEqual([2n ** 64n - 1n, 2n ** 63n, 5n]);
    const f = back['f']!.data as Float32Array;
    Array.from(floats.data as Float32Array).forEach((v, k) => expect(Object.is(f[k], v), `float ${k}`).toBe(true));
    expect(new Uint32Array(f.buffer)[5]).toBe(0x3dcccccd);
    if (!binary) {
      // JSON numbers past 2^53 were written rounded (9007199254740992, and 2^63 - 1 as 9223372036854776000, which
      // int64 cannot even hold): such tensors go out as decimal strings.
      expect(text).toContain('"data":["9007199254740993","-9223372036854775808","9223372036854775807","16000"]');
      expect(text).toContain('"data":["18446744073709551615","9223372036854775808","5"]');
      expect(text).toContain('"data":["NaN","-0","Infinity","-Infinity",1,0.1]');
    }
  });

  it('an int64 tensor within +-(2^53 - 1) stays JSON numbers (what Triton clients expect)', () => {
    const safe: Tensor = { dtype: 'int64', shape: [3], data: BigInt64Array.of(16000n, -(2n ** 53n - 1n), 2n ** 53n - 1n) };
    expect(writeKserveTensor('sr', safe, false).entry.data).toEqual([16000, -9007199254740991, 9007199254740991]);
    const edge: Tensor = { dtype: 'int64', shape: [1], data: BigInt64Array.of(2n ** 53n) };
    expect(writeKserveTensor('sr', edge, false).entry.data).toEqual(['9007199254740992']);
  });

  it('a request with an int64 JSON number past 2^53 is refused, saying digits were lost and what to send', () => {
    const body = enc.encode('{"inputs":[{"name":"sr","shape":[1],"datatype":"INT64","data":[9007199254740993]}]}');
    const err = errorOf(() => decodeRequest(body));
    expect(err.code).toBe('TENSOR_ENCODING_INVALID');
    expect(err.message).toContain('send 64-bit integers as decimal strings');
    // The decimal-string spelling of the same request is read exactly.
    const ok = decodeRequest(enc.encode('{"inputs":[{"name":"sr","shape":[1],"datatype":"INT64","data":["9007199254740993"]}]}'));
    expect(Array.from(ok['sr']!.data as BigInt64Array)).toEqual([9007199254740993n]);
  });
});

describe('malformed frames are refused with a code and a message, before any allocation of the claimed size', () => {
  const bin = (entry: Partial<KserveTensor>, bytes: number[] = []) => () =>
    readKserveTensor({ name: 'x', shape: [2], datatype: 'FP32', ...entry } as KserveTensor, new BinaryCursor(new Uint8Array(bytes)));

  it('rejects header lengths past the body or not numbers', () => {
    const body = enc.encode('{"inputs":[]}');
    expect(() => splitKserveBody(body, 999)).toThrow(/999, past the end of the 13-byte body/);
    expect(codeOf(() => splitKserveBody(body, '-5'))).toBe('BAD_REQUEST');
    expect(codeOf(() => splitKserveBody(body, '12abc'))).toBe('BAD_REQUEST');
    expect(codeOf(() => splitKserveBody(body, 5))).toBe('BAD_REQUEST'); // cut JSON
    // A header length of 0 on a body that is not empty: it said "(the body is empty)".
    expect(() => splitKserveBody(body, '0')).toThrow(
      'Inference-Header-Content-Length is 0; expected the length of the JSON inference header at the start of the 13-byte body',
    );
    expect(() => splitKserveBody(new Uint8Array(0), undefined)).toThrow('request has no JSON inference header (the body is empty)');
  });

  it('checks sizes against dtype x shape, negative and huge dims, datatype names', () => {
    expect(codeOf(bin({ parameters: { binary_data_size: 7 } }, [0, 0, 0, 0, 0, 0, 0]))).toBe('TENSOR_SIZE_MISMATCH');
    expect(codeOf(bin({ parameters: { binary_data_size: 8 } }, [0, 0, 0, 0]))).toBe('TENSOR_SIZE_MISMATCH');
    expect(codeOf(bin({ shape: [-1], parameters: { binary_data_size: 8 } }))).toBe('SHAPE_INVALID');
    expect(codeOf(bin({ shape: [1e9, 1e9, 1e9], parameters: { binary_data_size: 8 } }))).toBe('SHAPE_INVALID');
    expect(bin({ shape: [1e6, 1e6], parameters: { binary_data_size: 8 } }, [0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/needs 4000000000000 bytes, binary_data_size is 8/);
    expect(codeOf(bin({ shape: [1e6, 1e6], data: [1, 2] }))).toBe('TENSOR_SIZE_MISMATCH');
    expect(bin({ datatype: 'FLOAT32', data: [1, 2] })).toThrow(/datatype "FLOAT32"; expected one of .*FP32/);
    expect(codeOf(bin({ parameters: { binary_data_size: -8 } }))).toBe('BAD_REQUEST');
    expect(codeOf(bin({ datatype: 'BYTES', shape: [1e9], parameters: { binary_data_size: 8 } }, [0, 0, 0, 0, 0, 0, 0, 0]))).toBe('TENSOR_SIZE_MISMATCH');
  });

  it('says a binary_data_size past 2^53 is too large and names the limit (it is an integer, just not a safe one)', () => {
    for (const size of [2 ** 60, Number.MAX_SAFE_INTEGER + 1, Infinity]) {
      const err = errorOf(bin({ parameters: { binary_data_size: size } }));
      expect(err.code).toBe('TENSOR_TOO_LARGE');
      expect(err.message).toBe(`tensor 'x': binary_data_size ${String(size)} is too large; the limit is 67108864 bytes`);
    }
    // A reader with no limit of its own (the client) still names the largest size it can take.
    const cursor = new BinaryCursor(new Uint8Array());
    const entry = { name: 'y', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 2 ** 60 } };
    expect(() => readKserveTensor(entry, cursor, Number.MAX_SAFE_INTEGER)).toThrow(
      "tensor 'y': binary_data_size 1152921504606847000 is too large; the limit is 9007199254740991 bytes",
    );
    // Not integers, negative, not numbers: still malformed.
    expect(bin({ parameters: { binary_data_size: 1.5 } })).toThrow("tensor 'x' binary_data_size is 1.5; expected a non-negative integer");
    expect(codeOf(bin({ parameters: { binary_data_size: '8' } }))).toBe('BAD_REQUEST');
  });

  it('says data: null (or an object) is no data, naming what it expected', () => {
    const nul = errorOf(bin({ shape: [2, 2], data: null }));
    expect(nul.code).toBe('BAD_REQUEST');
    expect(nul.message).toBe("tensor 'x' data is null; expected an array of 4 values for FP32 [2, 2], or a binary_data_size parameter; the array may be flat or nested by the shape");
    // Shape [1] used to get past the count and fail as 'data[0] is null'; it is the same fault.
    expect(bin({ shape: [1], data: null })).toThrow("tensor 'x' data is null; expected an array of 1 values for FP32 [1]");
    expect(bin({ data: { a: 1 } })).toThrow("tensor 'x' data is an object; expected an array of 2 values for FP32 [2]");
    // A string or a bare number is no array either (a string was counted as one value: 'data holds 1').
    expect(bin({ data: 'abc' })).toThrow("tensor 'x' data is the string \"abc\"; expected an array of 2 values for FP32 [2]");
    expect(bin({ shape: [1], data: 5 })).toThrow("tensor 'x' data is the number 5; expected an array of 1 values for FP32 [1]");
  });

  it('takes BOOL bytes 0 and 1 only (the binary extension: true is the byte 1, false the byte 0)', () => {
    const bool = (bytes: number[]) => () =>
      readKserveTensor({ name: 'm', shape: [bytes.length], datatype: 'BOOL', parameters: { binary_data_size: bytes.length } }, new BinaryCursor(new Uint8Array(bytes)));
    expect(bool([1, 0, 1, 1])().data).toEqual(new Uint8Array([1, 0, 1, 1]));
    const err = errorOf(bool([1, 0, 2, 255]));
    expect(err.code).toBe('TENSOR_ENCODING_INVALID');
    expect(err.message).toBe("tensor 'm': BOOL byte 2 is 2; expected 0 (false) or 1 (true), one byte per element");
    expect(err.details).toEqual({ index: 2 });
    expect(bool([0, 0, 0, 0xff])).toThrow('BOOL byte 3 is 255;');
  });

  it('reads JSON BOOL data as true/false (and 1/0, as documented); anything else is TENSOR_ENCODING_INVALID', () => {
    const json = (data: unknown[]) => () => readKserveTensor({ name: 'm', shape: [data.length], datatype: 'BOOL', data }, new BinaryCursor(new Uint8Array()));
    expect(json([true, false, 1, 0])().data).toEqual(new Uint8Array([1, 0, 1, 0]));
    for (const [junk, shown] of [['yes', '"yes"'], [2, '2'], [null, 'null'], ['true', '"true"']] as const) {
      const err = errorOf(json([true, junk]));
      expect(err.code).toBe('TENSOR_ENCODING_INVALID');
      expect(err.message).toBe(`tensor 'm' data[1] is ${shown}; expected true or false (or 1 or 0)`);
    }
  });

  it('refuses bytes left over after the last tensor', () => {
    const cursor = new BinaryCursor(new Uint8Array(12));
    readKserveTensor({ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }, cursor);
    expect(() => cursor.finish()).toThrow(/4 bytes follow the last binary tensor/);
  });
});
