export { loadConfig, ServerConfigSchema, type ServerConfig } from './config';
export { startServer, type StartedServer } from './server';
export { openDatabase, type OpenedDatabase } from './db/database';
export { ArtifactStore, type StoredArtifact } from './registry/artifact-store';
export { ModelRegistry, type VariantInput } from './registry/model-registry';
export { DeviceRegistry, sha256Hex } from './devices/device-registry';
export { ServerInference } from './inference/server-inference';
export { ServerParity, withParity } from './parity/parity-service';
export { HeadlessBrowser, CHROMIUM_PATH, chromiumArgs, type BrowserRunRequest } from './parity/headless-browser';
