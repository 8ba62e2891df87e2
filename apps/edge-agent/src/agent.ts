import { arch, platform, totalmem } from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import type { DeviceCapabilities, LeptonServices } from '@lepton/api';
import { ort, ortNode, registerLeptonHttp } from '@lepton/node-platform';
import type { EdgeConfig } from './config';
import { loadIdentity, saveIdentity, identityPath, type Identity } from './identity';
import { ModelCache } from './model-cache';
import { LocalModels, type Log } from './local-models';
import { createEdgeServices } from './edge-services';
import { Upstream } from './upstream';

export interface EdgeAgent {
  /** Base URL the agent listens on (loopback by default). */
  readonly url: string;
  readonly identity: Identity;
  readonly local: LocalModels;
  readonly services: LeptonServices;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Log;
}

/**
 * Start an agent: identity (stored, or enrolled now with the one-time token), then each configured model
 * (downloaded and verified, or from the cache when the server is unreachable), then the API on loopback.
 */
export async function startEdgeAgent(config: EdgeConfig, opts: StartOptions = {}): Promise<EdgeAgent> {
  const log: Log = opts.log ?? ignore;
  const upstream = new Upstream({ url: config.serverUrl, timeoutMs: config.upstreamTimeoutMs });

  const identity = await ensureIdentity(config, upstream, log);
  upstream.credential = identity.credential;

  const local = new LocalModels(new ModelCache(config.dataDir), upstream, ort, log);
  await local.sync(config.models);

  const services = createEdgeServices(local, upstream, log);
  const app: FastifyInstance = Fastify({ logger: false });
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

  return {
    url: `http://${host}:${port}`,
    identity,
    local,
    services,
    async close() {
      await app.close();
      await local.release();
    },
  };
}

async function ensureIdentity(config: EdgeConfig, upstream: Upstream, log: Log): Promise<Identity> {
  const stored = await loadIdentity(config.dataDir);
  if (stored) {
    if (stored.serverUrl !== config.serverUrl) {
      log('identity.server-changed', { enrolledWith: stored.serverUrl, now: config.serverUrl });
    }
    return stored;
  }
  if (!config.enrollToken) {
    throw new LeptonError(
      'ENROLLMENT_INVALID',
      `no device identity at ${identityPath(config.dataDir)} and LEPTON_ENROLL_TOKEN is not set; set it to the server's enrollment token`,
    );
  }
  let enrolled;
  try {
    enrolled = await upstream.enroll(config.enrollToken, config.deviceName, capabilities());
  } catch (err) {
    if (isLeptonError(err) && (err.code === 'ENROLLMENT_INVALID' || err.code === 'UNAUTHORIZED')) {
      throw new LeptonError('ENROLLMENT_INVALID', `server ${config.serverUrl} rejected the enrollment token (LEPTON_ENROLL_TOKEN): ${err.message}`);
    }
    throw err;
  }
  const identity: Identity = { ...enrolled, serverUrl: config.serverUrl, enrolledAt: new Date().toISOString() };
  await saveIdentity(config.dataDir, identity);
  log('device.enrolled', { deviceId: identity.deviceId });
  return identity;
}

function ignore(): void {
  /* no logging */
}

/** What the server uses to choose a variant for this device. */
function capabilities(): DeviceCapabilities {
  return {
    runtime: `onnxruntime-node@${ortNode.env.versions.node ?? ortNode.env.versions.common}`,
    precisions: ['fp32', 'fp16', 'int8', 'uint8'],
    os: platform(),
    arch: arch(),
    memoryMb: Math.floor(totalmem() / (1024 * 1024)),
  };
}
