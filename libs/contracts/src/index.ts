export * from './errors';
export * from './tensor';
export * from './pipeline';
export * from './manifest';
export * from './requests';
export * from './wire';
export { encodeBase64, decodeBase64, base64DecodedLength } from './base64';
export * from './kserve';
export * from './fleet';
