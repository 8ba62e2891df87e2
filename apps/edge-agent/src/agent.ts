import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import type { DeviceCapabilities, LeptonServices } from '@lepton/api';
import { leptonFastifyOptions, ort, registerLeptonHttp } from '@lepton/node-platform';
import type { EdgeConfig } from './config';
import { loadIdentity, saveIdentity, identityPath, type Identity } from './identity';
import { ModelCache } from './model-cache';
import { LocalModels, type Log } from './local-models';
import { createEdgeServices } from './edge-services';
import { Upstream } from './upstream';
import { SignatureVerifier } from './signature';
import { Outbox } from './outbox';
import { SyncLoop } from './sync-loop';
import { detectCapabilities } from './capabilities';
import { lockDataDir } from './data-dir-lock';

export interface EdgeAgent {
  /** Base URL the agent listens on (loopback by default). */
  readonly url: string;
  readonly identity: Identity;
  readonly local: LocalModels;
  readonly services: LeptonServices;
  readonly outbox: Outbox;
  readonly loop: SyncLoop;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Log;
}

/**
 * Start an agent: identity (stored, or enrolled now with the one-time token, pinning the server's signing key),
 * one sync with the server (assignments installed and verified) or, when it is unreachable, the verified cache;
 * then the API on loopback, and the sync loop (polling with jitter and backoff, reports, telemetry outbox).
 */
export async function startEdgeAgent(config: EdgeConfig, opts: StartOptions = {}): Promise<EdgeAgent> {
  const log: Log = opts.log ?? ignore;
  const lock = await lockDataDir(config.dataDir, log);
  try {
    return await start(config, log, lock.release);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function start(config: EdgeConfig, log: Log, unlock: () => Promise<void>): Promise<EdgeAgent> {
  const upstream = new Upstream({ url: config.serverUrl, timeoutMs: config.upstreamTimeoutMs });

  const capabilities = detectCapabilities({ memoryMb: config.memoryMb });
  const identity = await ensureIdentity(config, upstream, log, capabilities);
  upstream.credential = identity.credential;
  const verifier = new SignatureVerifier(identity.serverKey!);
  const cache = new ModelCache(config.dataDir, verifier);
  const outbox = new Outbox(join(config.dataDir, 'outbox'), config.outboxMaxBytes, log);
  await outbox.open();
  const event = (e: Parameters<Outbox['add']>[0]) => void outbox.add(e);
  const local = new LocalModels({ cache, upstream, verifier, ort, log, event, healthMinCalls: config.healthMinCalls });
  const loop = new SyncLoop({
    upstream,
    local,
    outbox,
    cache,
    log,
    models: config.models,
    capabilities,
    pollMs: config.pollMs,
    backoffMaxMs: config.backoffMaxMs,
    cacheMaxBytes: config.cacheMaxBytes,
  });

  // What verifies in the cache serves at once; the first sync installs only what has nothing running yet, and
  // updates to running models happen in the background right after listening (hot swap).
  await local.loadCached(config.models, { quietIfMissing: true });
  let deferred = false;
  try {
    await loop.once({ deferUpdates: true });
    deferred = config.models.some((m) => local.get(m) !== undefined);
  } catch (err) {
    const code = isLeptonError(err) ? err.code : 'INTERNAL';
    log(code === 'UPSTREAM_UNAVAILABLE' ? 'server.unreachable' : 'sync.failed', { code, message: (err as Error).message });
  }
  await local.loadCached(config.models);

  const services = createEdgeServices(local, upstream, log, event);
  const app: FastifyInstance = Fastify({ ...leptonFastifyOptions(), logger: false });
  await registerLeptonHttp(app, services, {});
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await local.release();
    throw new LeptonError('INTERNAL', `cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`);
  }
  const { port } = app.server.address() as { port: number };
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  log('agent.listening', { address });
  loop.start(deferred);

  return {
    url: `http://${host}:${port}`,
    identity,
    local,
    services,
    outbox,
    loop,
    async close() {
      await loop.stop();
      await app.close();
      await outbox.close();
      await local.release();
      await unlock();
    },
  };
}

async function ensureIdentity(config: EdgeConfig, upstream: Upstream, log: Log, capabilities: DeviceCapabilities): Promise<Identity> {
  const stored = await loadIdentity(config.dataDir);
  if (stored) {
    if (stored.serverUrl !== config.serverUrl) {
      log('identity.server-changed', { enrolledWith: stored.serverUrl, now: config.serverUrl });
    }
    if (stored.serverKey) return stored;
    // Enrolled before the server signed anything: pin its key now, once (trust on first use), and say so.
    const serverKey = await upstream.publicKey();
    const pinned = { ...stored, serverKey };
    await saveIdentity(config.dataDir, pinned);
    log('identity.key-pinned', { keyId: serverKey.keyId, late: true });
    return pinned;
  }
  if (!config.enrollToken) {
    throw new LeptonError(
      'ENROLLMENT_INVALID',
      `no device identity at ${identityPath(config.dataDir)} and LEPTON_ENROLL_TOKEN is not set; set it to the server's enrollment token`,
    );
  }
  let enrolled;
  try {
    enrolled = await upstream.enroll(config.enrollToken, config.deviceName, capabilities);
  } catch (err) {
    if (isLeptonError(err) && (err.code === 'ENROLLMENT_INVALID' || err.code === 'ENROLLMENT_EXPIRED' || err.code === 'UNAUTHORIZED')) {
      throw new LeptonError('ENROLLMENT_INVALID', `server ${config.serverUrl} rejected the enrollment token (LEPTON_ENROLL_TOKEN): ${err.message}`);
    }
    throw err;
  }
  const serverKey = enrolled.serverKey ?? (await upstream.publicKey());
  const identity: Identity = {
    deviceId: enrolled.deviceId,
    credential: enrolled.credential,
    serverUrl: config.serverUrl,
    enrolledAt: new Date().toISOString(),
    serverKey,
  };
  await saveIdentity(config.dataDir, identity);
  log('device.enrolled', { deviceId: identity.deviceId, keyId: serverKey.keyId });
  return identity;
}

function ignore(): void {
  /* no logging */
}
