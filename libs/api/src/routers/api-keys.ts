import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { ApiKeyCreateSchema } from '@lepton/contracts';
import { allow } from '../auth';
import { fleetOf } from './fleet-of';

/** API keys for people and services (admin only). The key is shown once; the server keeps its hash. */
export const apiKeysRouter = {
  create: allow('admin')
    .input(ApiKeyCreateSchema)
    .mutation(({ ctx, input }) => fleetOf(ctx).createApiKey(input)),
  list: allow('admin').query(({ ctx }) => fleetOf(ctx).listApiKeys()),
  revoke: allow('admin')
    .input(z.object({ id: z.string().min(1).max(128) }))
    .mutation(({ ctx, input }) => fleetOf(ctx).revokeApiKey(input.id)),
} satisfies TRPCRouterRecord;
