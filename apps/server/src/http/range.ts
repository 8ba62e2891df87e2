import { LeptonError } from '@lepton/tensor-core';

/**
 * The start of a `Range: bytes=N-` request (the only form resumable downloads need), or undefined for the whole
 * body: no header, an If-Range that no longer matches the ETag, or N = 0. Other forms, or N past the end,
 * answer BAD_REQUEST naming the header and the size.
 */
export function parseRange(header: string | undefined, ifRange: string | undefined, size: number, etag: string): { start: number } | undefined {
  if (header === undefined) return undefined;
  if (ifRange !== undefined && ifRange !== etag) return undefined;
  const m = /^bytes=(\d+)-$/.exec(header.trim());
  if (!m) throw new LeptonError('BAD_REQUEST', `Range ${JSON.stringify(header)} is not supported; expected "bytes=N-" with N < ${size}`);
  const start = Number(m[1]);
  if (!Number.isSafeInteger(start) || start >= size) {
    throw new LeptonError('BAD_REQUEST', `Range start ${m[1]} is past the artifact's ${size} bytes`, { size });
  }
  return start === 0 ? undefined : { start };
}
