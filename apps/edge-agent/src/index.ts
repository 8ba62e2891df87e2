export * from './config';
export * from './agent';
export * from './model-cache';
export * from './identity';
export * from './local-models';
export * from './edge-services';
export * from './upstream';
export * from './replayable-source';
