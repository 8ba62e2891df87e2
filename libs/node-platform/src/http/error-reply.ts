import type { FastifyError, FastifyReply } from 'fastify';
import { isLeptonError } from '@lepton/tensor-core';
import { ERROR_CODES, type ErrorBody } from '@lepton/contracts';
import { errorBodyOf } from '@lepton/api';

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
    const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : 'BAD_REQUEST';
    return { status, body: { code, message: (err as Error).message } };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
}

/** Send an error reply (internal faults are logged with their stack; the client only sees "internal error"). */
export function sendHttpError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = httpErrorOf(err);
  if (status >= 500) reply.log.error({ err }, 'request failed');
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
