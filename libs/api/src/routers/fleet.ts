import type { TRPCRouterRecord } from '@trpc/server';
import { z } from 'zod';
import { DeviceReportSchema, TelemetryBatchSchema } from '@lepton/contracts';
import { DeviceCapabilitiesSchema } from '../schemas';
import { allow, deviceIdOf } from '../auth';
import { fleetOf } from './fleet-of';

/**
 * What a device calls. A device only ever sees its own assignments and writes its own reports and telemetry:
 * the device id comes from its credential, never from the request.
 */
export const fleetRouter = {
  /** The server's signing key (public), for pinning and for checking by hand. */
  publicKey: allow('none', 'client', 'device', 'admin').query(({ ctx }) => fleetOf(ctx).publicKey()),
  /** The models this device should run now, each with a signed variant and why that variant. */
  sync: allow('device')
    .input(z.object({ capabilities: DeviceCapabilitiesSchema.optional() }))
    .mutation(({ ctx, input }) =>
      fleetOf(ctx).sync(deviceIdOf(ctx.auth?.principal), input.capabilities !== undefined ? { capabilities: input.capabilities } : {}),
    ),
  /** Install and health states of this device's deployments. */
  report: allow('device')
    .input(z.object({ reports: z.array(DeviceReportSchema).min(1).max(100) }))
    .mutation(({ ctx, input }) => fleetOf(ctx).report(deviceIdOf(ctx.auth?.principal), input.reports)),
  /** Telemetry events; each event id is stored once per device however often it is sent. */
  telemetry: allow('device')
    .input(TelemetryBatchSchema)
    .mutation(({ ctx, input }) => fleetOf(ctx).ingestTelemetry(deviceIdOf(ctx.auth?.principal), input.events)),
} satisfies TRPCRouterRecord;
