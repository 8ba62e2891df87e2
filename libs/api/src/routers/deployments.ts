import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { DeploymentCreateSchema, ModelManifestSchema, PrecisionSchema, decodeBase64 } from '@lepton/contracts';
import { allow } from '../auth';
import { fleetOf } from './fleet-of';

const RegisterSchema = z.object({
  manifest: ModelManifestSchema,
  variants: z
    .array(
      z.object({
        precision: PrecisionSchema,
        target: z.enum(['server', 'web', 'edge', 'any']).default('any'),
        /** The model file, base64 (bounded by the tRPC body limit). */
        data: z.string().min(1),
      }),
    )
    .min(1)
    .max(8),
});

/** Model versions onto devices: register a version, roll it out in stages, watch it (admin only). */
export const deploymentsRouter = {
  /** Register a model version with its variant files (what a deployment can then roll out). */
  registerModel: allow('admin')
    .input(RegisterSchema)
    .mutation(({ ctx, input }) =>
      fleetOf(ctx).registerModel({
        manifest: input.manifest,
        variants: input.variants.map((v) => ({ precision: v.precision, target: v.target, data: decodeBase64(v.data) })),
      }),
    ),
  create: allow('admin')
    .input(DeploymentCreateSchema)
    .mutation(({ ctx, input }) => fleetOf(ctx).createDeployment(input)),
  list: allow('admin').query(({ ctx }) => fleetOf(ctx).listDeployments()),
  status: allow('admin')
    .input(z.object({ id: z.string().min(1).max(128) }))
    .query(({ ctx, input }) => fleetOf(ctx).deploymentStatus(input.id)),
} satisfies TRPCRouterRecord;
