import { LeptonError } from '@lepton/tensor-core';

/** The inclusive byte range [start, end] a 206 answers with. */
export interface ByteRange {
  start: number;
  end: number;
}

/** One `first-last`, `first-` or `-suffix` of a bytes range-set (RFC 9110 §14.1.1). */
const SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/**
 * The byte range a GET answers with (RFC 9110 §14), or undefined for the whole body with 200.
 * - One range: `bytes=a-b` (b clamped to size-1), `bytes=a-`, `bytes=-n` (the last n bytes; all of them when
 *   n >= size). The unit is case-insensitive; empty list elements are skipped (`bytes=0-9,` is one range).
 * - Whole body: no header; an If-Range that is not the ETag (strong comparison; a date never matches, the
 *   artifact has no Last-Modified); a unit other than bytes or a syntactically invalid set (ignored, §14.2); more
 *   than one range (a server may ignore Range; multipart/byteranges is not implemented).
 * - RANGE_NOT_SATISFIABLE (416, details.size for the `Content-Range: bytes * /size` header): a first position at
 *   or past the end, `-0`, or any range of an empty artifact.
 */
export function parseRange(header: string | undefined, ifRange: string | undefined, size: number, etag: string): ByteRange | undefined {
  if (header === undefined) return undefined;
  if (ifRange !== undefined && ifRange.trim() !== etag) return undefined;
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const parsed = specs.map((s) => SPEC.exec(s));
  if (parsed.length === 0 || parsed.some((m) => m === null)) return undefined;
  if (parsed.length > 1) return undefined;
  const m = parsed[0]!;
  if (m[3] !== undefined) {
    // Suffix: the last n bytes. Digits past 2^53 lose precision but are still far larger than any size.
    const n = Number(m[3]);
    if (n === 0 || size === 0) throw unsatisfiable(header, size, n === 0 ? 'a suffix of 0 bytes selects nothing' : 'the artifact is empty');
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (last !== undefined && last < start) return undefined; // invalid range-spec: ignored like any invalid set
  if (start >= size) throw unsatisfiable(header, size, `its first position ${m[1]!} is at or past the end`);
  return { start, end: last === undefined ? size - 1 : Math.min(last, size - 1) };
}

function unsatisfiable(header: string, size: number, why: string): LeptonError {
  return new LeptonError(
    'RANGE_NOT_SATISFIABLE',
    `Range ${JSON.stringify(header.slice(0, 200))} is not satisfiable: ${why}; the artifact has ${size} bytes${size > 0 ? ` (first positions 0..${size - 1})` : ''}`,
    { range: header.slice(0, 200), size },
  );
}
