import { initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import { isLeptonError } from '@lepton/tensor-core';
import { ERROR_CODES, isErrorCode } from '@lepton/contracts';
import type { LeptonContext } from './services';
import { errorBodyOf, toTRPCError } from './errors';

/**
 * One tRPC instance for every router. The formatter gives each error `data.lepton` ({ code, message, details })
 * so clients switch on our stable codes, `data.zodError` (flattened) so they see which field was wrong, and
 * the HTTP status our code maps to (ERROR_CODES), identical to the plain HTTP routes.
 */
const t = initTRPC.context<LeptonContext>().create({
  errorFormatter({ shape, error }) {
    const lepton = errorBodyOf(error);
    const httpStatus =
      isLeptonError(error.cause) && isErrorCode(error.cause.code) ? ERROR_CODES[error.cause.code].http : shape.data.httpStatus;
    return {
      ...shape,
      // Our message everywhere: readable for validation errors (tRPC's own is zod's JSON dump), masked for INTERNAL.
      message: lepton.message,
      data: {
        ...shape.data,
        // Stack traces stay on the server, whatever NODE_ENV says.
        stack: undefined,
        httpStatus,
        zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
        lepton,
      },
    };
  },
});

/** LeptonErrors thrown by services become TRPCErrors with the matching code (LeptonError kept as `cause`). */
const leptonErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isLeptonError(result.error.cause)) throw toTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(leptonErrors);
