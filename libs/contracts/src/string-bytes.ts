import { LeptonError } from '@lepton/tensor-core';
import { utf8Length, utf8Read, utf8Write } from './utf8';

// String tensors as bytes: the KServe v2 BYTES layout (each element a 4-byte little-endian length, then that
// many UTF-8 bytes), used by the base64 wire form and by the binary data extension alike.

export function encodeStringBytes(values: readonly string[]): Uint8Array {
  let total = 0;
  for (const s of values) total += 4 + utf8Length(s);
  const out = new Uint8Array(total);
  let o = 0;
  for (const s of values) {
    const start = o + 4;
    const end = utf8Write(s, out, start);
    const n = end - start;
    out[o] = n & 255;
    out[o + 1] = (n >>> 8) & 255;
    out[o + 2] = (n >>> 16) & 255;
    out[o + 3] = (n >>> 24) & 255;
    o = end;
  }
  return out;
}

/** Parse `count` length-prefixed UTF-8 elements that must fill `bytes` exactly. */
export function decodeStringBytes(bytes: Uint8Array, count: number, what: string): string[] {
  const out = new Array<string>(count);
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw truncated(what, i, count, bytes.length);
    const n = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
    o += 4;
    if (o + n > bytes.length) throw truncated(what, i, count, bytes.length);
    out[i] = utf8Read(bytes, o, o + n, `${what} element ${i}`);
    o += n;
  }
  if (o !== bytes.length) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `${what}: ${count} string elements end at byte ${o}, but the data holds ${bytes.length} bytes`,
      { expected: o, received: bytes.length },
    );
  }
  return out;
}

function truncated(what: string, index: number, count: number, length: number): LeptonError {
  return new LeptonError(
    'TENSOR_SIZE_MISMATCH',
    `${what}: string element ${index} of ${count} runs past the end of the ${length} data bytes`,
    { index, received: length },
  );
}
