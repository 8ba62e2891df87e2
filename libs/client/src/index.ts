export * from './client';
export * from './kserve-client';
export type { FetchLike, FetchResponseLike } from './fetch';
