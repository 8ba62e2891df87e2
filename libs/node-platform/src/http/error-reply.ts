import type { FastifyError, FastifyReply } from 'fastify';
import { isLeptonError } from '@lepton/tensor-core';
import { ERROR_CODES, type ErrorBody, type ErrorCode } from '@lepton/contracts';
import { errorBodyOf } from '@lepton/api';

/** Lepton codes for the 4xx statuses Fastify itself answers with, so code and status agree (ERROR_CODES). */
const FASTIFY_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  413: 'BODY_TOO_LARGE',
  415: 'CONTENT_TYPE_UNSUPPORTED',
};

/**
 * The HTTP status and `{ code, message, details }` body for an error on a plain HTTP route: the same body tRPC
 * puts in `data.lepton`, so both surfaces report a fault identically.
 */
export function httpErrorOf(err: unknown): { status: number; body: ErrorBody } {
  if (isLeptonError(err)) {
    const body = errorBodyOf(err);
    return { status: ERROR_CODES[body.code].http, body };
  }
  // Fastify's own 4xx errors (unsupported media type, malformed JSON, body too large) keep their status.
  const status = (err as Partial<FastifyError>).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_STATUS_CODES[status] ?? 'BAD_REQUEST';
    return { status, body: { code, message: (err as Error).message } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

/**
 * The 415 for a body whose content type a route does not take, naming what was sent and what is accepted
 * (Fastify's own "Unsupported Media Type" names neither).
 */
export function unsupportedMediaType(contentType: string | undefined, expected: readonly string[]): { status: number; body: ErrorBody } {
  const sent = contentType === undefined || contentType === '' ? 'no content-type header' : `content-type ${JSON.stringify(contentType.slice(0, 100))}`;
  return { status: 415, body: { code: 'CONTENT_TYPE_UNSUPPORTED', message: `${sent}; expected ${expected.join(', ')}`, details: { expected: [...expected] } } };
}

/** Fastify's error for a request body no registered parser takes. */
export function isMediaTypeError(err: unknown): boolean {
  return (err as Partial<FastifyError>).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
}

/** Send an error reply (internal faults are logged with their stack; the client only sees "internal error"). */
export function sendHttpError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = httpErrorOf(err);
  if (status >= 500) reply.log.error({ err }, 'request failed');
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
