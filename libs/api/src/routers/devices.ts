import type { TRPCRouterRecord } from '@trpc/server';
import { LeptonError } from '@lepton/tensor-core';
import { EnrollTokenCreateSchema } from '@lepton/contracts';
import { EnrollRequestSchema } from '../schemas';
import { allow } from '../auth';
import { fleetOf } from './fleet-of';

export const devicesRouter = {
  /**
   * Exchange an enrollment token for { deviceId, credential, serverKey }. The token is the credential here, so
   * any caller may try. Only hosts with a DeviceService enroll.
   */
  enroll: allow('none', 'client', 'device', 'admin')
    .input(EnrollRequestSchema)
    .mutation(({ ctx, input }) => {
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
  /** A one-time enrollment token that expires (admin). */
  createToken: allow('admin')
    .input(EnrollTokenCreateSchema)
    .mutation(({ ctx, input }) =>
      fleetOf(ctx).createEnrollToken({ ttlSeconds: input.ttlSeconds, ...(input.group !== undefined ? { group: input.group } : {}) }),
    ),
  /** Every device with its versions, health, last seen time and recent latencies (admin). */
  list: allow('admin').query(({ ctx }) => fleetOf(ctx).listDevices()),
} satisfies TRPCRouterRecord;
