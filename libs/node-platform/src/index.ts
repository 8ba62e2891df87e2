export * from './bundled-models';
export * from './ort-node';
export * from './http/register-lepton-http';
export * from './http/vad-stream-route';
export * from './http/vad-stream-client';
export * from './http/vad-query';
export * from './http/error-reply';
