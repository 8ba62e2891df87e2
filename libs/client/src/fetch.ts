/**
 * The slice of the Fetch API the client uses. Neutral libraries are compiled without DOM or Node types, and
 * fetch exists on every platform we ship to (browsers, Node 18+, workers); it is reached through globalThis here
 * and can be injected (tests, custom agents).
 */
export interface FetchResponseLike {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string },
) => Promise<FetchResponseLike>;

export function globalFetch(): FetchLike {
  const f = (globalThis as unknown as { fetch?: FetchLike }).fetch;
  if (!f) throw new Error('no global fetch on this platform; pass `fetch` to createLeptonClient');
  return f.bind(globalThis) as FetchLike;
}
