export * from './audio-fixtures';
