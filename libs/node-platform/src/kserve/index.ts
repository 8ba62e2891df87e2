export * from './kserve-routes';
export * from './kserve-infer';
export * from './kserve-metadata';
