import { LeptonError } from '@lepton/tensor-core';

// Platform-neutral base64 (no Buffer, no atob: this library runs in browsers, Node and devices alike).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
// URL-safe variants decode too, so clients may use either alphabet.
LOOKUP['-'.charCodeAt(0)] = 62;
LOOKUP['_'.charCodeAt(0)] = 63;

/** Bytes a base64 string decodes to (padding excluded), without decoding it. */
export function base64DecodedLength(text: string): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
  return Math.floor((end * 3) / 4);
}

/** Decode standard or URL-safe base64, padded or not. Throws VALIDATION_FAILED naming the bad character. */
export function decodeBase64(text: string, field = 'data'): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (text.length - end > 2 || end % 4 === 1) {
    throw new LeptonError('VALIDATION_FAILED', `${field} is not valid base64: length ${text.length} cannot be decoded`, {
      field,
    });
  }
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) {
      throw new LeptonError(
        'VALIDATION_FAILED',
        `${field} is not valid base64: character ${JSON.stringify(text[i])} at offset ${i}`,
        { field, offset: i },
      );
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
