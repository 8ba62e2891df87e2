import { LeptonError } from '@lepton/tensor-core';

// A base64 codec of our own: neutral code cannot rely on Node's Buffer or the browser's atob/btoa, and atob goes
// through a binary string (one JS char per byte), which costs a copy and a lot of memory for 64 MiB tensors.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='

/** 12 bits of input -> two output char codes, packed as (hi << 8) | lo: one table lookup per 1.5 bytes. */
const PAIRS = new Uint16Array(4096);
for (let i = 0; i < 4096; i++) PAIRS[i] = (ALPHABET.charCodeAt(i >> 6) << 8) | ALPHABET.charCodeAt(i & 63);

/** UTF-16 code unit -> 6-bit value, or 255 outside the alphabet (64 KiB, so no bounds checks in the loop). */
const VALUES = new Uint8Array(65536).fill(255);
for (let i = 0; i < 64; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** Input bytes per string piece; a multiple of 3 so only the last piece is padded. */
const PIECE = 3 * 65536;

/**
 * ASCII codes -> string. TextDecoder (present in every browser, Node, Deno and Bun) does this at memcpy speed;
 * it is looked up on globalThis because neutral code has no DOM/Node types. The fallback builds the string from
 * char codes in slices small enough for Function.prototype.apply.
 */
const textDecoder = ((): { decode(bytes: Uint8Array): string } | undefined => {
  const TD = (globalThis as { TextDecoder?: new () => { decode(bytes: Uint8Array): string } }).TextDecoder;
  return TD === undefined ? undefined : new TD();
})();

function asciiString(codes: Uint8Array): string {
  if (textDecoder !== undefined) return textDecoder.decode(codes);
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) {
    s += String.fromCharCode.apply(null, Array.from(codes.subarray(i, i + 8192)));
  }
  return s;
}

/** Standard base64 (RFC 4648 section 4, padded) of `bytes`, which may be a view at any offset. */
export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const codes = new Uint8Array(Math.ceil(Math.min(PIECE, bytes.length) / 3) * 4);
  for (let start = 0; start < bytes.length; start += PIECE) {
    const end = Math.min(start + PIECE, bytes.length);
    let o = 0;
    let i = start;
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      const a = PAIRS[n >> 12]!;
      const b = PAIRS[n & 4095]!;
      codes[o++] = a >> 8;
      codes[o++] = a & 255;
      codes[o++] = b >> 8;
      codes[o++] = b & 255;
    }
    const rest = end - i;
    if (rest > 0) {
      const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
      const a = PAIRS[n >> 12]!;
      codes[o++] = a >> 8;
      codes[o++] = a & 255;
      codes[o++] = rest === 2 ? PAIRS[n & 4095]! >> 8 : PAD;
      codes[o++] = PAD;
    }
    parts.push(asciiString(codes.subarray(0, o)));
  }
  return parts.join('');
}

/** Number of bytes `text` decodes to (padding optional), or -1 when its length cannot be base64. */
export function base64DecodedLength(text: string): number {
  let len = text.length;
  if (len > 0 && text.charCodeAt(len - 1) === PAD) len--;
  if (len > 0 && text.charCodeAt(len - 1) === PAD) len--;
  if (len % 4 === 1) return -1;
  return Math.floor((len * 3) / 4);
}

/**
 * Decode base64 into `out` (exactly base64DecodedLength(text) bytes). Padding is optional; any character outside
 * the standard alphabet, or padding anywhere but the end, throws TENSOR_ENCODING_INVALID naming `what` and the
 * character position.
 */
export function decodeBase64Into(text: string, out: Uint8Array, what = 'base64 data'): void {
  const n = base64DecodedLength(text);
  if (n < 0) {
    throw new LeptonError('TENSOR_ENCODING_INVALID', `${what}: base64 length ${text.length} is not valid (length % 4 is 1)`);
  }
  if (out.length !== n) throw new RangeError(`output holds ${out.length} bytes; base64 decodes to ${n}`);
  const full = Math.floor(n / 3) * 4;
  let o = 0;
  let i = 0;
  for (; i < full; i += 4) {
    const a = VALUES[text.charCodeAt(i)]!;
    const b = VALUES[text.charCodeAt(i + 1)]!;
    const c = VALUES[text.charCodeAt(i + 2)]!;
    const d = VALUES[text.charCodeAt(i + 3)]!;
    if ((a | b | c | d) > 63) throw invalidChar(text, firstInvalid(text, i), what);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  const rest = n - o;
  if (rest > 0) {
    let v = 0;
    for (let k = 0; k <= rest; k++) {
      const x = VALUES[text.charCodeAt(i + k)]!;
      if (x > 63) throw invalidChar(text, i + k, what);
      v |= x << (18 - 6 * k);
    }
    out[o++] = v >> 16;
    if (rest === 2) out[o++] = (v >> 8) & 255;
    i += rest + 1;
  }
  for (; i < text.length; i++) if (text.charCodeAt(i) !== PAD) throw invalidChar(text, i, what);
}

/** Decode standard base64 (padding optional) into a fresh Uint8Array. */
export function decodeBase64(text: string): Uint8Array {
  const n = base64DecodedLength(text);
  if (n < 0) {
    throw new LeptonError('TENSOR_ENCODING_INVALID', `base64 length ${text.length} is not valid (length % 4 is 1)`);
  }
  const out = new Uint8Array(n);
  decodeBase64Into(text, out);
  return out;
}

function firstInvalid(text: string, from: number): number {
  let i = from;
  while (VALUES[text.charCodeAt(i)]! <= 63) i++;
  return i;
}

function invalidChar(text: string, index: number, what: string): LeptonError {
  const ch = JSON.stringify(text.charAt(index));
  return new LeptonError(
    'TENSOR_ENCODING_INVALID',
    `${what}: character ${ch} at position ${index} is not base64 (expected A-Z, a-z, 0-9, +, / and trailing =)`,
    { index },
  );
}
