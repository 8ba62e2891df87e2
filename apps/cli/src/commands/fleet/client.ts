import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { LeptonError } from '@lepton/tensor-core';
import { ErrorBodySchema } from '@lepton/contracts';
import type { AppRouter } from '@lepton/api';

export interface FleetFlags {
  server: string;
  /** Admin API key (--key or LEPTON_API_KEY). */
  key?: string;
}

/** A tRPC client for the server that sends the API key. */
export function fleetClient(flags: FleetFlags) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${flags.server}/trpc`, headers: () => (flags.key ? { authorization: `Bearer ${flags.key}` } : {}) })],
  });
}

/** Run a call; server errors come back as LeptonError (printed `error CODE: message`), others say the URL. */
export async function call<T>(flags: FleetFlags, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TRPCClientError) {
      const body = ErrorBodySchema.safeParse((err.data as { lepton?: unknown } | undefined)?.lepton);
      if (body.success) {
        const hint = body.data.code === 'UNAUTHORIZED' && !flags.key ? ' (pass --key or set LEPTON_API_KEY to an admin key)' : '';
        throw new LeptonError(body.data.code, `${body.data.message}${hint}`, body.data.details);
      }
    }
    throw new LeptonError('UPSTREAM_UNAVAILABLE', `server ${flags.server} is unreachable: ${(err as Error).message}`);
  }
}
