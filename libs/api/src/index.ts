export * from './services';
export * from './schemas';
export * from './errors';
export * from './root';
