import type { TRPCRouterRecord } from '@trpc/server';
import type { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import type { LeptonServices } from '../services';
import { publicProcedure } from '../trpc';
import { checkCaller } from '../auth';
import { ParityRequestSchema, type ParityReport } from './parity-schemas';

export type ParityCall = z.output<typeof ParityRequestSchema>;

/**
 * Runs one model version on several platforms over the same feeds and compares the answers (the server
 * implements it; hosts without it answer NOT_IMPLEMENTED). It lives beside LeptonServices rather than in it,
 * so hosts opt in by adding `parity` to their services object.
 */
export interface ParityService {
  run(req: ParityCall): Promise<ParityReport>;
}

export type ServicesWithParity = LeptonServices & { parity?: ParityService };

export const parityRouter = {
  /**
   * `parity.run({ model, version?, inputs, platforms, reference?, edgeUrl?, provided? })`: outputs of each
   * platform against the reference's, per output max abs/rel difference, ulps, cosine, SQNR, argmax agreement
   * with near ties flagged, pass/fail under the stated tolerance, and the preprocessed-feeds digests.
   */
  run: publicProcedure.input(ParityRequestSchema).mutation(({ ctx, input }) => {
    // Comparing a registered model is as open as infer; an uploaded file is registered (a write), so it needs a key.
    if (input.modelBytes !== undefined) checkCaller(ctx.auth, ['client', 'admin'], 'parity.run with modelBytes (it registers the upload)');
    const parity = (ctx.services as ServicesWithParity).parity;
    if (!parity) {
      throw new LeptonError('NOT_IMPLEMENTED', `parity.run is not served by this ${ctx.services.platform} host; ask the server`, {
        platform: ctx.services.platform,
      });
    }
    return parity.run(input);
  }),
} satisfies TRPCRouterRecord;
