export * from './bundled-models';
export * from './ort-node';
