export * from './program';
export * from './format';
export * from './commands/vad';
export * from './commands/loadtest';
