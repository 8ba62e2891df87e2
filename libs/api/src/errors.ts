import { TRPCError } from '@trpc/server';
import { ZodError, z } from 'zod';
import { isLeptonError } from '@lepton/tensor-core';
import { ERROR_CODES, isErrorCode, type ErrorBody, type ErrorCode } from '@lepton/contracts';

type TrpcCode = TRPCError['code'];

/** The tRPC code for one of our error codes (unknown codes are internal faults). */
export function trpcCodeOf(code: string): TrpcCode {
  return isErrorCode(code) ? ERROR_CODES[code].trpc : 'INTERNAL_SERVER_ERROR';
}

/** Turn a LeptonError into the TRPCError a procedure throws, keeping the original as `cause`. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) return err;
  if (isLeptonError(err)) return new TRPCError({ code: trpcCodeOf(err.code), message: err.message, cause: err });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: err });
}

const FROM_TRPC: Partial<Record<TrpcCode, ErrorCode>> = {
  BAD_REQUEST: 'BAD_REQUEST',
  PARSE_ERROR: 'BAD_REQUEST',
  // tRPC's NOT_FOUND is an unknown procedure (our own not-found cases are LeptonErrors with their own codes).
  NOT_FOUND: 'ROUTE_NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  PAYLOAD_TOO_LARGE: 'BODY_TOO_LARGE',
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  METHOD_NOT_SUPPORTED: 'METHOD_NOT_ALLOWED',
  // tRPC's own transport checks (a POST without application/json, ...) are the caller's fault, not ours: they
  // keep tRPC's 4xx status and message instead of reading as an internal error.
  UNSUPPORTED_MEDIA_TYPE: 'CONTENT_TYPE_UNSUPPORTED',
  UNPROCESSABLE_CONTENT: 'BAD_REQUEST',
  CLIENT_CLOSED_REQUEST: 'BAD_REQUEST',
  TIMEOUT: 'REQUEST_TIMEOUT',
};

/** "inputs.0.dtype: Invalid option ..." for each issue, so a message alone says which field was wrong. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(input)'}: ${i.message}`)
    .join('; ');
}

/**
 * The client-facing error body for any error a procedure or route produced: our code, a message naming the
 * value, and details (for validation failures, the flattened field errors).
 */
export function errorBodyOf(error: unknown): ErrorBody {
  const cause = error instanceof TRPCError ? (error.cause ?? error) : error;
  if (isLeptonError(cause)) {
    const code = isErrorCode(cause.code) ? cause.code : 'INTERNAL';
    return { code, message: cause.message, ...(cause.details ? { details: cause.details } : {}) };
  }
  if (cause instanceof ZodError) {
    return {
      code: 'VALIDATION_FAILED',
      message: describeZodError(cause),
      details: z.flattenError(cause) as unknown as Record<string, unknown>,
    };
  }
  // tRPC's own JSON.parse of the body (POST) or ?input= (GET): its message alone ("Unexpected end of JSON input")
  // did not say what was being read.
  if (error instanceof TRPCError && cause instanceof SyntaxError) {
    return { code: 'BAD_REQUEST', message: `request input is not valid JSON (${cause.message}); expected the procedure's input as JSON: the POST body, or ?input= of a GET` };
  }
  if (error instanceof TRPCError) {
    const code = FROM_TRPC[error.code] ?? 'INTERNAL';
    return { code, message: code === 'INTERNAL' ? 'internal error' : error.message };
  }
  return { code: 'INTERNAL', message: 'internal error' };
}
