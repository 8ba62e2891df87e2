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
    // The server calls edgeUrl itself: without a key, only an agent on this machine, so an anonymous caller cannot
    // make the server send requests to other hosts of its network.
    if (input.edgeUrl !== undefined && !isLoopbackUrl(input.edgeUrl)) {
      checkCaller(ctx.auth, ['client', 'admin'], `parity.run with edgeUrl ${JSON.stringify(input.edgeUrl.slice(0, 100))} (not a loopback address)`);
    }
    const parity = (ctx.services as ServicesWithParity).parity;
    if (!parity) {
      throw new LeptonError('NOT_IMPLEMENTED', `parity.run is not served by this ${ctx.services.platform} host; ask the server`, {
        platform: ctx.services.platform,
      });
    }
    return parity.run(input);
  }),
} satisfies TRPCRouterRecord;

/** http(s) URL whose host is localhost, 127.0.0.0/8 or [::1]. (No URL global here: libs are platform-neutral.) */
export function isLoopbackUrl(url: string): boolean {
  const m = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
  if (!m) return false;
  const host = m[1]!.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
