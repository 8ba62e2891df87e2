import { LeptonError } from '@lepton/tensor-core';

// UTF-8 for string tensors in the KServe BYTES layout. TextEncoder/TextDecoder are Web/Node globals that the
// neutral libraries do not assume; this is the small subset we need. Lone surrogates encode as U+FFFD, as
// TextEncoder does, since UTF-8 cannot carry them.

/** Bytes `s` occupies in UTF-8. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLow(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Write `s` as UTF-8 into `out` at `offset`; returns the offset after the last byte written. */
export function utf8Write(s: string, out: Uint8Array, offset: number): number {
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
      continue;
    }
    if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && isLow(next)) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 63);
        out[o++] = 0x80 | ((cp >> 6) & 63);
        out[o++] = 0x80 | (cp & 63);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[o++] = 0xe0 | (c >> 12);
    out[o++] = 0x80 | ((c >> 6) & 63);
    out[o++] = 0x80 | (c & 63);
  }
  return o;
}

/**
 * Strict UTF-8 decode of bytes[start, end): overlong forms, surrogates and truncated sequences throw
 * TENSOR_ENCODING_INVALID naming `what` and the byte offset.
 */
export function utf8Read(bytes: Uint8Array, start: number, end: number, what: string): string {
  const units: number[] = [];
  let out = '';
  for (let i = start; i < end; ) {
    const b = bytes[i]!;
    let cp: number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      units.push(b);
      i++;
      if (units.length >= 4096) out += flush(units);
      continue;
    } else if ((b & 0xe0) === 0xc0) [cp, need, min] = [b & 0x1f, 1, 0x80];
    else if ((b & 0xf0) === 0xe0) [cp, need, min] = [b & 0x0f, 2, 0x800];
    else if ((b & 0xf8) === 0xf0) [cp, need, min] = [b & 0x07, 3, 0x10000];
    else throw bad(what, i);
    if (i + need >= end) throw bad(what, i);
    for (let k = 1; k <= need; k++) {
      const x = bytes[i + k]!;
      if ((x & 0xc0) !== 0x80) throw bad(what, i);
      cp = (cp << 6) | (x & 63);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw bad(what, i);
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
    else units.push(cp);
    i += need + 1;
    if (units.length >= 4096) out += flush(units);
  }
  return out + flush(units);
}

function flush(units: number[]): string {
  const s = String.fromCharCode.apply(null, units);
  units.length = 0;
  return s;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function bad(what: string, offset: number): LeptonError {
  return new LeptonError('TENSOR_ENCODING_INVALID', `${what}: invalid UTF-8 at byte ${offset}`, { offset });
}
