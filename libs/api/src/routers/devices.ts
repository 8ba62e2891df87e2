import type { TRPCRouterRecord } from '@trpc/server';
import { LeptonError } from '@lepton/tensor-core';
import { EnrollRequestSchema } from '../schemas';
import { publicProcedure } from '../trpc';

export const devicesRouter = {
  /** Exchange an enrollment token for { deviceId, credential }. Only hosts with a DeviceService enroll. */
  enroll: publicProcedure.input(EnrollRequestSchema).mutation(({ ctx, input }) => {
    const devices = ctx.services.devices;
    if (!devices) {
      throw new LeptonError('NOT_IMPLEMENTED', `devices.enroll is not served by this ${ctx.services.platform} host; enroll with the server`, {
        platform: ctx.services.platform,
      });
    }
    return devices.enroll({
      token: input.token,
      name: input.name,
      ...(input.capabilities !== undefined ? { capabilities: input.capabilities } : {}),
    });
  }),
} satisfies TRPCRouterRecord;
