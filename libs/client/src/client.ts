import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { KserveClient } from './kserve-client';
import { globalFetch, type FetchLike } from './fetch';

export interface LeptonClientOptions {
  /** Server or edge agent base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Extra headers on every tRPC call (e.g. authorization). */
  headers?: Record<string, string>;
  fetch?: FetchLike;
}

export interface LeptonClient {
  /** The typed tRPC API (`AppRouter` imported as a type only: no server code in the bundle). */
  trpc: TRPCClient<AppRouter>;
  /** KServe v2: metadata, readiness and infer with binary tensors. */
  kserve: KserveClient;
}

/** One client for both surfaces of a Lepton host (server or edge agent). */
export function createLeptonClient(opts: LeptonClientOptions): LeptonClient {
  const url = opts.url.replace(/\/+$/, '');
  const fetchImpl = opts.fetch ?? globalFetch();
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        ...(opts.headers ? { headers: () => opts.headers! } : {}),
        ...(opts.fetch ? { fetch: opts.fetch as never } : {}),
      }),
    ],
  });
  return { trpc, kserve: new KserveClient(url, fetchImpl) };
}
