import { LeptonError } from '@lepton/tensor-core';
import type { Principal, Role } from '@lepton/contracts';
import { publicProcedure } from './trpc';

/** A cell of the authorization matrix: a role, or `none` for a caller without a credential. */
export type Caller = Role | 'none';

/**
 * A procedure open to the given callers only. Hosts that do not authenticate (ctx.auth absent: the edge agent on
 * loopback, in-process callers) are trusted. Wrong role: FORBIDDEN; no credential where one is needed:
 * UNAUTHORIZED, so clients can tell "log in" from "not allowed".
 */
export function allow(...callers: Caller[]) {
  return publicProcedure.use(({ ctx, next }) => {
    if (ctx.auth) {
      const role: Caller = ctx.auth.principal?.role ?? 'none';
      if (!callers.includes(role)) {
        if (role === 'none') {
          throw new LeptonError('UNAUTHORIZED', `this procedure needs a credential (${callers.join(' or ')}); send "Authorization: Bearer <key>"`);
        }
        throw new LeptonError('FORBIDDEN', `role ${role} may not call this procedure; allowed: ${callers.join(', ')}`, { role });
      }
    }
    return next();
  });
}

/** The calling device's id (device procedures); in-process callers name the device in `asDevice`. */
export function deviceIdOf(principal: Principal | undefined, asDevice?: string): string {
  if (principal?.role === 'device') return principal.id;
  if (asDevice !== undefined) return asDevice;
  throw new LeptonError('FORBIDDEN', 'only an enrolled device may call this procedure (send its credential)');
}
