export * from './dtype';
export * from './errors';
export * from './tensor';
export * from './audio';
