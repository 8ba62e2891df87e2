// Metrics: losses, accuracy and parity measures between a candidate and a reference tensor.
export * from './losses';
export * from './accuracy';
export * from './parity';
