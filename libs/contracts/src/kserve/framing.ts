import { LeptonError } from '@lepton/tensor-core';
import { utf8Length, utf8Read, utf8Write } from '../utf8';

/** A KServe message split into its JSON header and the binary tensor bytes that follow it (a view, not a copy). */
export interface KserveFrame {
  header: unknown;
  binary: Uint8Array;
}

/**
 * Split a body into the JSON header and the binary part. `headerLength` is the Inference-Header-Content-Length
 * header (absent: the whole body is JSON). Every fault is a BAD_REQUEST naming the numbers involved.
 */
export function splitKserveBody(
  body: Uint8Array,
  headerLength: string | number | undefined,
  /** A faster platform UTF-8 decoder (Node's Buffer, TextDecoder); the built-in one is used otherwise. */
  decodeText?: (bytes: Uint8Array) => string,
): KserveFrame {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    const text = String(headerLength).trim();
    const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) {
      throw new LeptonError('BAD_REQUEST', `Inference-Header-Content-Length is ${JSON.stringify(text)}; expected a non-negative integer`, {
        header: text,
      });
    }
    if (n > body.length) {
      throw new LeptonError(
        'BAD_REQUEST',
        `Inference-Header-Content-Length is ${n}, past the end of the ${body.length}-byte body`,
        { headerLength: n, bodyLength: body.length },
      );
    }
    if (n === 0 && body.length > 0) {
      throw new LeptonError(
        'BAD_REQUEST',
        `Inference-Header-Content-Length is 0; expected the length of the JSON inference header at the start of the ${body.length}-byte body`,
        { headerLength: 0, bodyLength: body.length },
      );
    }
    jsonEnd = n;
  }
  if (jsonEnd === 0) throw new LeptonError('BAD_REQUEST', 'request has no JSON inference header (the body is empty)');
  let header: unknown;
  try {
    header = JSON.parse(decodeText ? decodeText(body.subarray(0, jsonEnd)) : utf8Read(body, 0, jsonEnd, 'inference header'));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new LeptonError('BAD_REQUEST', `inference header (${jsonEnd} bytes) is not valid JSON: ${why}`, { headerLength: jsonEnd });
  }
  return { header, binary: body.subarray(jsonEnd) };
}

/** JSON header + binary parts as one body, and the header length for Inference-Header-Content-Length. */
export function joinKserveBody(header: unknown, parts: readonly Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const json = JSON.stringify(header);
  const headerLength = utf8Length(json);
  let total = headerLength;
  for (const p of parts) total += p.length;
  const body = new Uint8Array(total);
  let o = utf8Write(json, body, 0);
  for (const p of parts) {
    body.set(p, o);
    o += p.length;
  }
  return { body, headerLength };
}
