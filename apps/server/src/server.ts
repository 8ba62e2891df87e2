import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { leptonFastifyOptions, ort, registerLeptonHttp } from '@lepton/node-platform';
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
import { inferenceMetrics } from './metrics/inference-metrics';
import { registerModelsDir } from './kserve/models-dir';
import { openApiRoutes } from './openapi/openapi-routes';
import { Signer } from './signing/signer';
import { ApiKeys } from './auth/api-keys';
import { DeploymentService } from './deployments/deployment-service';
import { TelemetryStore } from './telemetry/telemetry-store';
import { createFleetService } from './fleet/fleet-service';
import { ServerParity, withParity } from './parity/parity-service';
import { VariantJobs } from './variants/variant-jobs';

export interface StartedServer {
  /** http://HOST:PORT, with the port actually bound (PORT=0 picks a free one). */
  url: string;
  port: number;
  /** The one-time enrollment token created by this start (first start, or after the last one was used). */
  enrollmentToken: string | undefined;
  app: FastifyInstance;
  registry: ModelRegistry;
  devices: DeviceRegistry;
  /** The admin key created by this start (first start only); printed once by main. */
  adminKey: string | undefined;
  deployments: DeploymentService;
  telemetry: TelemetryStore;
  signer: Signer;
  /** Background variant builds (web/edge per registered model version). */
  variants: VariantJobs;
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
  const signer = await Signer.open(config.dataDir);
  const devices = new DeviceRegistry(db, { keyId: signer.keyId, publicKey: signer.publicKey });
  const keys = new ApiKeys(db);
  const deployments = new DeploymentService(db, registry, signer);
  const telemetry = new TelemetryStore(db);
  const variants = new VariantJobs({
    db,
    registry,
    artifacts,
    enabled: config.buildVariants,
    audioDir: config.variantAudioDir,
    // Jobs start after listen, when the app (and its pino logger) exists.
    log: { info: (o, m) => app?.log.info(o, m), warn: (o, m) => app?.log.warn(o, m) },
  });
  const fleet = createFleetService({ db, keys, devices, deployments, telemetry, registry, signer, pollAfterMs: config.pollAfterMs, variants });
  const metrics = { observer: undefined as ReturnType<typeof inferenceMetrics> | undefined };
  // The observer is created with the metrics registry below; the indirection lets inference exist first.
  const inference: ServerInference = new ServerInference({
    registry,
    artifacts,
    ort,
    sessionsPerModel: config.sessionsPerModel,
    workerThreads: config.sessionThreads,
    observer: {
      onRequest: (e) => metrics.observer?.onRequest?.(e),
      onExecute: (m, v, e) => metrics.observer?.onExecute?.(m, v, e),
    },
  });
  const self = { url: '' };
  const parity = new ServerParity({ registry, artifacts, inference, ort, selfUrl: () => self.url });
  let app: FastifyInstance | undefined;
  try {
    await registerBundledModels(registry);
    if (config.modelsDir !== undefined) await registerModelsDir(registry, config.modelsDir);
    for (const m of await registry.list()) await deployments.ensureDefault(m.id, m.version);
    if (config.adminKey !== undefined) await keys.addEnvAdminKey(config.adminKey);
    if (config.enrollToken !== undefined) await devices.addEnvToken(config.enrollToken);
    app = Fastify({
      // Malformed HTTP and undecodable URLs answer in the Lepton error shape (BAD_REQUEST), like every route.
      ...leptonFastifyOptions(),
      logger: { level: config.logLevel, stream: process.stderr },
      // An hour of audio streams for as long as inference takes; Node's default 300 s request timeout would cut it.
      requestTimeout: 0,
      // ...but a socket with no traffic at all for this long is closed, so stalled clients cannot pile up.
      connectionTimeout: config.idleTimeoutMs,
      forceCloseConnections: true,
    });
    metrics.observer = inferenceMetrics(registerMetrics(app), () => inference.pending());
    openApiRoutes(app);
    await registerLeptonHttp(app, withParity({ platform: 'server', models: registry, inference, devices, fleet, auth: keys, variants }, parity));
    await artifactRoute(app, { registry, artifacts, devices, deployments });
    await staticRoutes(app, { webDir: config.webDir });
    await app.listen({ port: config.port, host: config.host });
    const enrollmentToken = await devices.issueOneTimeToken();
    const adminKey = await keys.bootstrapAdminKey();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    self.url = `http://${host}:${port}`;
    const started = app;
    // After listening: builds run in the background and never delay the start.
    await variants.start();
    return {
      url: `http://${host}:${port}`,
      port,
      enrollmentToken,
      adminKey,
      app,
      registry,
      devices,
      deployments,
      telemetry,
      signer,
      variants,
      async close() {
        await started.close();
        await variants.close();
        await inference.close();
        await parity.close();
        await db.destroy();
      },
    };
  } catch (err) {
    await app?.close();
    await variants.close();
    await inference.close();
    await db.destroy();
    throw err;
  }
}
