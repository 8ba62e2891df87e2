import type { TRPCRouterRecord } from '@trpc/server';
import { ModelGetInputSchema } from '../schemas';
import { publicProcedure } from '../trpc';

export const modelsRouter = {
  /** Every registered model version with its manifest and variants. */
  list: publicProcedure.query(({ ctx }) => ctx.services.models.list()),
  /** One model version (latest when `version` is omitted); MODEL_NOT_FOUND otherwise. */
  get: publicProcedure.input(ModelGetInputSchema).query(({ ctx, input }) => ctx.services.models.get(input.id, input.version)),
} satisfies TRPCRouterRecord;
