import { z } from 'zod';

/**
 * Stable error codes. Each maps to one tRPC code and one HTTP status; the message of every error names the
 * offending value and what was expected.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { trpc: 'BAD_REQUEST', http: 400 },
  /** A request body over the route's size limit (the tRPC body limit); sent with 413. */
  BODY_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', http: 413 },
  /** A request body whose Content-Type the route does not take (or none); sent with 415. */
  CONTENT_TYPE_UNSUPPORTED: { trpc: 'UNSUPPORTED_MEDIA_TYPE', http: 415 },
  /** No route has this method and path (unknown path, or a path that takes another method). */
  ROUTE_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  /** A tRPC procedure called with the wrong HTTP method (a mutation by GET, a query by POST). */
  METHOD_NOT_ALLOWED: { trpc: 'METHOD_NOT_SUPPORTED', http: 405 },
  /** The request did not arrive completely within the server's request timeout. */
  REQUEST_TIMEOUT: { trpc: 'TIMEOUT', http: 408 },
  /** The request's header block is past the server's limit (sent with 431). */
  HEADERS_TOO_LARGE: { trpc: 'BAD_REQUEST', http: 431 },
  /** A byte range that selects nothing of the artifact (first position at or past the end, `-0`); sent with 416. */
  RANGE_NOT_SATISFIABLE: { trpc: 'BAD_REQUEST', http: 416 },
  VARIANT_MISMATCH: { trpc: 'CONFLICT', http: 409 },
  VALIDATION_FAILED: { trpc: 'BAD_REQUEST', http: 400 },
  SHAPE_INVALID: { trpc: 'BAD_REQUEST', http: 400 },
  TENSOR_SIZE_MISMATCH: { trpc: 'BAD_REQUEST', http: 400 },
  TENSOR_DTYPE_MISMATCH: { trpc: 'BAD_REQUEST', http: 400 },
  TENSOR_SHAPE_MISMATCH: { trpc: 'BAD_REQUEST', http: 400 },
  TENSOR_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', http: 413 },
  TENSOR_ENCODING_INVALID: { trpc: 'BAD_REQUEST', http: 400 },
  DTYPE_UNSUPPORTED: { trpc: 'BAD_REQUEST', http: 400 },
  INPUT_MISSING: { trpc: 'BAD_REQUEST', http: 400 },
  INPUT_UNKNOWN: { trpc: 'BAD_REQUEST', http: 400 },
  WAV_INVALID: { trpc: 'BAD_REQUEST', http: 400 },
  WAV_UNSUPPORTED: { trpc: 'BAD_REQUEST', http: 400 },
  WAV_TRUNCATED: { trpc: 'BAD_REQUEST', http: 400 },
  WAV_EMPTY: { trpc: 'BAD_REQUEST', http: 400 },
  AUDIO_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', http: 413 },
  MODEL_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  MODEL_NOT_VAD: { trpc: 'BAD_REQUEST', http: 400 },
  MODEL_LOAD_FAILED: { trpc: 'INTERNAL_SERVER_ERROR', http: 500 },
  MANIFEST_INVALID: { trpc: 'BAD_REQUEST', http: 400 },
  PIPELINE_INVALID: { trpc: 'BAD_REQUEST', http: 400 },
  ARTIFACT_DIGEST_MISMATCH: { trpc: 'INTERNAL_SERVER_ERROR', http: 502 },
  ARTIFACT_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  ENROLLMENT_INVALID: { trpc: 'UNAUTHORIZED', http: 401 },
  UNAUTHORIZED: { trpc: 'UNAUTHORIZED', http: 401 },
  FORBIDDEN: { trpc: 'FORBIDDEN', http: 403 },
  UPSTREAM_UNAVAILABLE: { trpc: 'BAD_GATEWAY', http: 502 },
  INFERENCE_FAILED: { trpc: 'INTERNAL_SERVER_ERROR', http: 500 },
  NOT_IMPLEMENTED: { trpc: 'NOT_IMPLEMENTED', http: 501 },
  /** A browser asked to run on WebGPU has no `navigator.gpu` or no adapter (never replaced by WASM silently). */
  WEBGPU_UNAVAILABLE: { trpc: 'PRECONDITION_FAILED', http: 412 },
  INTERNAL: { trpc: 'INTERNAL_SERVER_ERROR', http: 500 },
  FILE_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  SIGNATURE_INVALID: { trpc: 'INTERNAL_SERVER_ERROR', http: 502 },
  ENROLLMENT_EXPIRED: { trpc: 'UNAUTHORIZED', http: 401 },
  DEPLOYMENT_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  /** A device id (e.g. in a deployment's target) that is not enrolled on this server. */
  DEVICE_NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  QUEUE_FULL: { trpc: 'SERVICE_UNAVAILABLE', http: 503 },
  QUEUE_TIMEOUT: { trpc: 'SERVICE_UNAVAILABLE', http: 503 },
  DATABASE_UNAVAILABLE: { trpc: 'SERVICE_UNAVAILABLE', http: 503 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** What an error looks like to a client (tRPC error `data.lepton`, and the JSON body of plain HTTP routes). */
export const ErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
