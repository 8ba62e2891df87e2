import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ort, registerLeptonHttp } from '@lepton/node-platform';
import type { ServerConfig } from './config';
import { openDatabase } from './db/database';
import { ArtifactStore } from './registry/artifact-store';
import { ModelRegistry } from './registry/model-registry';
import { registerBundledModels } from './registry/bundled';
import { DeviceRegistry } from './devices/device-registry';
import { ServerInference } from './inference/server-inference';
import { artifactRoute } from './http/artifact-route';
import { staticRoutes } from './http/static-routes';
import { registerMetrics } from './http/metrics';

export interface StartedServer {
  /** http://HOST:PORT, with the port actually bound (PORT=0 picks a free one). */
  url: string;
  port: number;
  /** The one-time enrollment token created by this start (first start, or after the last one was used). */
  enrollmentToken: string | undefined;
  app: FastifyInstance;
  registry: ModelRegistry;
  devices: DeviceRegistry;
  close(): Promise<void>;
}

/**
 * Open (and migrate) the registry, register the bundled models, and serve the Lepton API, artifact downloads,
 * the web app and onnxruntime-web's files. Logs are pino JSON on stderr, so stdout stays for the lines people
 * and scripts read.
 */
export async function startServer(config: ServerConfig): Promise<StartedServer> {
  await mkdir(config.dataDir, { recursive: true });
  const { db } = await openDatabase(config);
  const artifacts = new ArtifactStore(join(config.dataDir, 'artifacts'));
  const registry = new ModelRegistry(db, artifacts);
  const devices = new DeviceRegistry(db);
  const inference = new ServerInference({ registry, artifacts, ort });
  let app: FastifyInstance | undefined;
  try {
    await registerBundledModels(registry);
    if (config.enrollToken !== undefined) await devices.addEnvToken(config.enrollToken);
    app = Fastify({
      logger: { level: config.logLevel, stream: process.stderr },
      // An hour of audio streams for as long as inference takes; Node's default 300 s request timeout would cut it.
      requestTimeout: 0,
      forceCloseConnections: true,
    });
    registerMetrics(app);
    await registerLeptonHttp(app, { platform: 'server', models: registry, inference, devices });
    await artifactRoute(app, { registry, artifacts, devices });
    await staticRoutes(app, { webDir: config.webDir });
    await app.listen({ port: config.port, host: config.host });
    const enrollmentToken = await devices.issueOneTimeToken();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const started = app;
    return {
      url: `http://${host}:${port}`,
      port,
      enrollmentToken,
      app,
      registry,
      devices,
      async close() {
        await started.close();
        await inference.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await app?.close();
    await inference.close();
    await db.destroy();
    throw err;
  }
}
