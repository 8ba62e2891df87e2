export * from './batcher';
export * from './model-runner';
export { concatRows, splitRows } from './rows';
export { systemClock, type BatchClock } from './clock';
