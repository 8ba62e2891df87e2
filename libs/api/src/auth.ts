import { LeptonError } from '@lepton/tensor-core';
import type { Principal, Role } from '@lepton/contracts';
import { publicProcedure } from './trpc';

/** A cell of the authorization matrix: a role, or `none` for a caller without a credential. */
export type Caller = Role | 'none';

/**
 * Throws unless the caller is one of `callers`. Hosts that do not authenticate (`auth` absent: the edge agent on
 * loopback, in-process callers) are trusted. Wrong role: FORBIDDEN; no credential where one is needed:
 * UNAUTHORIZED, so clients can tell "log in" from "not allowed". `what` names what needs the role.
 */
export function checkCaller(auth: { principal?: Principal | undefined } | undefined, callers: readonly Caller[], what = 'this procedure'): void {
  if (!auth) return;
  const role: Caller = auth.principal?.role ?? 'none';
  if (callers.includes(role)) return;
  if (role === 'none') {
    throw new LeptonError('UNAUTHORIZED', `${what} needs a credential (${callers.join(' or ')}); send "Authorization: Bearer <key>"`);
  }
  throw new LeptonError('FORBIDDEN', `role ${role} may not call ${what}; allowed: ${callers.join(', ')}`, { role });
}

/** A procedure open to the given callers only (see checkCaller). */
export function allow(...callers: Caller[]) {
  return publicProcedure.use(({ ctx, next }) => {
    checkCaller(ctx.auth, callers);
    return next();
  });
}

/** The calling device's id (device procedures); in-process callers name the device in `asDevice`. */
export function deviceIdOf(principal: Principal | undefined, asDevice?: string): string {
  if (principal?.role === 'device') return principal.id;
  if (asDevice !== undefined) return asDevice;
  throw new LeptonError('FORBIDDEN', 'only an enrolled device may call this procedure (send its credential)');
}
