import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, encodeBase64 } from '../src';
import { shortestFloat16, shortestFloat32 } from '../src/float-text';
import { utf8Length, utf8Read, utf8Write } from '../src/utf8';

describe('base64 (reference: Node Buffer)', () => {
  it('matches Buffer for random bytes of every length class, across piece boundaries', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64(text)).toEqual(bytes);
        expect(decodeBase64(text.replace(/=+$/, ''))).toEqual(bytes);
      }),
    );
    const big = Uint8Array.from({ length: 3 * 65536 * 2 + 5 }, (_, i) => (i * 7919) & 255);
    expect(encodeBase64(big)).toBe(Buffer.from(big).toString('base64'));
    expect(Buffer.from(decodeBase64(encodeBase64(big))).equals(big)).toBe(true);
  });

  it('encodes the same without TextDecoder (char-code fallback)', async () => {
    vi.stubGlobal('TextDecoder', undefined);
    vi.resetModules();
    try {
      const fresh = await import('../src/base64');
      const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 31) & 255);
      expect(fresh.encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('rejects characters outside the alphabet and misplaced padding', () => {
    expect(() => decodeBase64('QUJD\u0141AAA')).toThrow(/position 4/);
    expect(() => decodeBase64('QU=D')).toThrow(/position 2/);
    expect(() => decodeBase64('QUJDR')).toThrow(/length 5/);
    expect(() => decodeBase64('QQ=A')).toThrow();
  });
});

describe('shortest decimals', () => {
  it('float32 prints the shortest decimal that reads back to the same bits', () => {
    expect(shortestFloat32(Math.fround(0.1))).toBe(0.1);
    expect(shortestFloat32(Math.fround(1 / 3))).toBe(0.33333334);
    expect(shortestFloat32(Math.fround(16777217))).toBe(16777216);
    expect(shortestFloat16(0x2e66)).toBe(0.1);
    expect(shortestFloat16(0x3555)).toBe(0.3333);
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const s = shortestFloat32(x);
        expect(Object.is(Math.fround(s), x)).toBe(true);
        // Shortest: one significant digit fewer no longer reads back (and 9 digits always suffice for float32).
        const digits = significantDigits(s);
        expect(digits).toBeLessThanOrEqual(9);
        if (digits > 1) expect(Math.fround(Number(x.toPrecision(digits - 1)))).not.toBe(x);
      }),
    );
  });
});

function significantDigits(x: number): number {
  if (x === 0) return 1;
  const mantissa = Math.abs(x).toExponential().split('e')[0]!;
  return mantissa.replace('.', '').length;
}

describe('utf8 (reference: TextEncoder/TextDecoder)', () => {
  it('matches TextEncoder for well-formed and lone-surrogate strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        const expected = new TextEncoder().encode(s);
        const out = new Uint8Array(utf8Length(s));
        expect(utf8Write(s, out, 0)).toBe(out.length);
        expect(out).toEqual(expected);
        expect(utf8Read(out, 0, out.length, 's')).toBe(new TextDecoder().decode(expected));
      }),
    );
  });

  it('rejects overlong, truncated and surrogate sequences', () => {
    for (const bad of [[0xc0, 0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x80, 0x80, 0x80, 0x80], [0x80]]) {
      expect(() => utf8Read(Uint8Array.from(bad), 0, bad.length, 'x')).toThrow(/invalid UTF-8 at byte 0/);
    }
  });
});
