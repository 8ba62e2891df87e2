import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';

/**
 * Everything the agent reads from its environment, parsed once at start (nobody else reads process.env).
 * Bad values stop the agent with VALIDATION_FAILED naming the variable, before anything touches disk or network.
 */
const EnvSchema = z.object({
  EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  EDGE_HOST: z.string().min(1).default('127.0.0.1'),
  LEPTON_SERVER_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  LEPTON_ENROLL_TOKEN: z.string().min(1).optional(),
  EDGE_DATA_DIR: z.string().min(1).default('./.lepton/edge'),
  EDGE_MODELS: z.string().default('silero-vad-v5'),
  EDGE_DEVICE_NAME: z.string().min(1).max(128).optional(),
  /** How long one request to the server may take before the agent calls it unreachable. */
  EDGE_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Between syncs with the server (unset: what the server suggests); each wait gets +-20% jitter. */
  EDGE_POLL_MS: z.coerce.number().int().min(50).max(86_400_000).optional(),
  /** Longest wait after repeated failures (the wait doubles per failure up to this). */
  EDGE_BACKOFF_MAX_MS: z.coerce.number().int().min(50).max(86_400_000).default(300_000),
  /** Telemetry outbox bound on disk; beyond it the oldest events are dropped. */
  EDGE_OUTBOX_MAX_BYTES: z.coerce.number().int().min(4096).default(16 * 1024 * 1024),
  /** Model cache bound on disk (previous versions go first, then models no longer configured). */
  EDGE_CACHE_MAX_BYTES: z.coerce.number().int().min(1).default(2 * 1024 * 1024 * 1024),
  /** Local calls before a new version is judged healthy or rolled back for its error rate. */
  EDGE_HEALTH_MIN_CALLS: z.coerce.number().int().min(1).default(20),
  /** Memory (MiB) the device can give models, reported for the server's variant choice (unset: detected). */
  EDGE_MEMORY_MB: z.coerce.number().int().min(16).max(16 * 1024 * 1024).optional(),
});

export interface EdgeConfig {
  readonly port: number;
  readonly host: string;
  /** Server base URL without a trailing slash. */
  readonly serverUrl: string;
  readonly enrollToken: string | undefined;
  /** Absolute path of the agent's state (identity, model cache). */
  readonly dataDir: string;
  /** Model ids to pull and serve locally; may be empty (every request is forwarded). */
  readonly models: readonly string[];
  readonly deviceName: string;
  readonly upstreamTimeoutMs: number;
  readonly pollMs: number | undefined;
  readonly backoffMaxMs: number;
  readonly outboxMaxBytes: number;
  readonly cacheMaxBytes: number;
  readonly healthMinCalls: number;
  /** EDGE_MEMORY_MB; undefined: physical memory or the cgroup limit, whichever is smaller. */
  readonly memoryMb: number | undefined;
}

export function loadEdgeConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): EdgeConfig {
  // Empty strings mean "unset" so `EDGE_PORT= lepton-edge` behaves like leaving it out; except EDGE_MODELS, where
  // empty is meaningful: run nothing locally, forward every request.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && (v !== '' || k === 'EDGE_MODELS')));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? '?');
    throw new LeptonError('VALIDATION_FAILED', `environment variable ${name}=${JSON.stringify(env[name])} is invalid: ${issue.message}`, {
      variable: name,
    });
  }
  const e = parsed.data;
  const models = e.EDGE_MODELS.split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  for (const m of models) {
    if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(m)) {
      throw new LeptonError('VALIDATION_FAILED', `EDGE_MODELS entry ${JSON.stringify(m)} is not a model id (expected [a-z0-9][a-z0-9._-]*)`, {
        variable: 'EDGE_MODELS',
      });
    }
  }
  return Object.freeze({
    port: e.EDGE_PORT,
    host: e.EDGE_HOST,
    serverUrl: e.LEPTON_SERVER_URL.replace(/\/+$/, ''),
    enrollToken: e.LEPTON_ENROLL_TOKEN,
    dataDir: resolve(cwd, e.EDGE_DATA_DIR),
    models: Object.freeze(models),
    deviceName: e.EDGE_DEVICE_NAME ?? hostname(),
    upstreamTimeoutMs: e.EDGE_UPSTREAM_TIMEOUT_MS,
    pollMs: e.EDGE_POLL_MS,
    backoffMaxMs: e.EDGE_BACKOFF_MAX_MS,
    outboxMaxBytes: e.EDGE_OUTBOX_MAX_BYTES,
    cacheMaxBytes: e.EDGE_CACHE_MAX_BYTES,
    healthMinCalls: e.EDGE_HEALTH_MIN_CALLS,
    memoryMb: e.EDGE_MEMORY_MB,
  });
}
