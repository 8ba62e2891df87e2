import { LeptonError } from '@lepton/tensor-core';
import type { LeptonContext } from '../services';
import type { FleetService } from '../fleet-services';

/** The host's fleet service, or NOT_IMPLEMENTED naming the host (edge agents manage no fleet). */
export function fleetOf(ctx: LeptonContext): FleetService {
  const fleet = ctx.services.fleet;
  if (!fleet) {
    throw new LeptonError('NOT_IMPLEMENTED', `fleet management is not served by this ${ctx.services.platform} host; call the server`, {
      platform: ctx.services.platform,
    });
  }
  return fleet;
}
