import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import { PrecisionSchema, VariantTargetSchema } from '@lepton/contracts';
import { allow } from '../auth';
import { publicProcedure } from '../trpc';
import type { LeptonContext, VariantService } from '../services';
import { selectVariant } from '../variant-select';

const ModelRef = { model: z.string().min(1).max(128), version: z.string().min(1).max(64).optional() };

function variantsOf(ctx: LeptonContext): VariantService {
  const v = ctx.services.variants;
  if (!v) {
    throw new LeptonError('NOT_IMPLEMENTED', `variant builds are not served by this ${ctx.services.platform} host; call the server`, {
      platform: ctx.services.platform,
    });
  }
  return v;
}

/**
 * Built variants: the background jobs that build one per target profile (web, edge) with their progress and
 * accuracy reports, and the variant a client should download for a target.
 */
export const variantsRouter = {
  /** Jobs of a model version (latest when `version` is omitted), oldest first. */
  jobs: allow('admin', 'client')
    .input(z.object(ModelRef))
    .query(({ ctx, input }) => variantsOf(ctx).jobs(input.model, input.version)),
  /** A variant with its accuracy report (null for the registered float32 model, which is the reference). */
  report: allow('admin', 'client')
    .input(z.object({ ...ModelRef, variant: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => variantsOf(ctx).report(input.model, input.version, input.variant)),
  /** The variant for a target and/or precision (see selectVariant); open like the model catalogue. */
  choose: publicProcedure
    .input(z.object({ ...ModelRef, target: VariantTargetSchema.optional(), precision: PrecisionSchema.optional() }))
    .query(async ({ ctx, input }) => {
      const record = await ctx.services.models.get(input.model, input.version);
      const variant = selectVariant(record, {
        ...(input.target !== undefined ? { target: input.target } : {}),
        ...(input.precision !== undefined ? { precision: input.precision } : {}),
      });
      return { model: record.id, version: record.version, variant };
    }),
} satisfies TRPCRouterRecord;
