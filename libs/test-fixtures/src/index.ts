export * from './audio-fixtures';
export * from './cut-wav';
