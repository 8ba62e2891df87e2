export * from './datatypes';
export * from './schemas';
export * from './framing';
export * from './tensors';
