import { z } from 'zod';
import { PrecisionSchema, VariantSessionOptionsSchema } from './manifest';

/**
 * Fleet contracts: who may call what (roles), signed variant manifests, deployments, device reports and
 * telemetry. Shared by the server, the edge agent, the CLI and the web fleet page.
 */
export const RoleSchema = z.enum(['admin', 'client', 'device']);
export type Role = z.infer<typeof RoleSchema>;

/** The caller a request was authenticated as; `none` when it sent no credential. */
export interface Principal {
  role: Role;
  /** API key id or device id. */
  id: string;
}

export const ApiKeyCreateSchema = z.object({
  name: z.string().min(1).max(128),
  role: z.enum(['admin', 'client']),
});
export const ApiKeyCreatedSchema = z.object({ id: z.string(), name: z.string(), role: RoleSchema, key: z.string() });
export type ApiKeyCreated = z.infer<typeof ApiKeyCreatedSchema>;

/**
 * A device group: what an enrollment token puts a device in and what a deployment can target. One schema for
 * both, so a deployment cannot target a group that no device can be in (empty, blank, upper case...).
 */
export const GroupNameSchema = z
  .string()
  .max(64, { error: (iss) => `a group name has at most 64 characters; this one has ${String(iss.input).length}` })
  .regex(/^[a-z0-9][a-z0-9._-]*$/, {
    error: (iss) => `${JSON.stringify(iss.input)} is not a group name; expected 1 to 64 of a-z 0-9 . _ - starting with a letter or digit`,
  });

export const EnrollTokenCreateSchema = z.object({
  /** Seconds until the token expires (default one day). */
  ttlSeconds: z.number().int().min(1).max(30 * 24 * 3600).default(24 * 3600),
  /** Group the enrolled device joins (deployments can target it). */
  group: GroupNameSchema.optional(),
});
export const EnrollTokenCreatedSchema = z.object({ token: z.string(), expiresAt: z.string(), group: z.string().optional() });
export type EnrollTokenCreated = z.infer<typeof EnrollTokenCreatedSchema>;

/**
 * What the server signs for one variant: the agent trusts an artifact only when this payload verifies under the
 * server key it pinned at enrollment and the downloaded bytes hash to `sha256` with `size` bytes.
 */
export const SignedPayloadSchema = z.object({
  modelId: z.string(),
  version: z.string(),
  variantId: z.string(),
  precision: PrecisionSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  /** sha256 of the manifest JSON as registered: a changed manifest (pipeline, labels...) breaks the signature. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * The variant's session options (they change numerics, so they are signed with the bytes). Absent when the
   * variant has none, so payloads of such variants sign exactly as before the field existed.
   */
  sessionOptions: VariantSessionOptionsSchema.optional(),
  keyId: z.string(),
});
export type SignedPayload = z.infer<typeof SignedPayloadSchema>;

export const SignedVariantSchema = z.object({
  payload: SignedPayloadSchema,
  /** Ed25519 signature (base64) over canonicalJson(payload). */
  signature: z.string().min(1),
});
export type SignedVariant = z.infer<typeof SignedVariantSchema>;

/** JSON with sorted keys: the exact bytes that are signed, identical on every platform. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const DeploymentTargetSchema = z.union([
  z.object({ deviceIds: z.array(z.string().min(1)).min(1).max(10_000) }),
  z.object({ group: GroupNameSchema }),
  z.object({ all: z.literal(true) }),
]);

export const DeploymentCreateSchema = z.object({
  model: z.string().min(1).max(128),
  version: z.string().min(1).max(64),
  target: DeploymentTargetSchema,
  /** Share of the targeted devices (stable per device) that get this version now. */
  percent: z.number().int().min(1).max(100).default(100),
  /** Variant policy: 'auto' chooses per device capabilities; otherwise this precision only. */
  // One enum, not a union with a literal: a bad value's error lists the choices (the union said "Invalid input").
  variantPolicy: z.enum(['auto', ...PrecisionSchema.options]).default('auto'),
  /** The rollout halts when more than this share of the devices that reported have failed. */
  maxFailureRate: z.number().min(0).max(1).default(0.2),
  /** A device rolls back by itself when its local error rate passes this. */
  errorRateThreshold: z.number().min(0).max(1).default(0.5),
});
export type DeploymentCreate = z.input<typeof DeploymentCreateSchema>;

export const DeploymentStatusSchema = z.enum(['active', 'halted', 'superseded']);

export const DeviceInstallStateSchema = z.enum(['pending', 'installed', 'healthy', 'failed', 'rolled-back']);
export type DeviceInstallState = z.infer<typeof DeviceInstallStateSchema>;

export const DeploymentSchema = z.object({
  id: z.string(),
  model: z.string(),
  version: z.string(),
  target: DeploymentTargetSchema,
  percent: z.number(),
  variantPolicy: z.string(),
  maxFailureRate: z.number(),
  errorRateThreshold: z.number(),
  status: DeploymentStatusSchema,
  createdAt: z.string(),
  haltedReason: z.string().optional(),
  /** Device counts by install state (devices in the rollout that reported). */
  counts: z.record(z.string(), z.number()),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

/** One model the server wants on a device, with the variant chosen for it and why. */
export const AssignmentSchema = z.object({
  deploymentId: z.string(),
  model: z.string(),
  version: z.string(),
  variantId: z.string(),
  reason: z.string(),
  errorRateThreshold: z.number(),
  signed: SignedVariantSchema,
});
export type Assignment = z.infer<typeof AssignmentSchema>;

export const DeviceReportSchema = z.object({
  deploymentId: z.string(),
  model: z.string(),
  version: z.string(),
  state: DeviceInstallStateSchema,
  message: z.string().max(2000).optional(),
});
export type DeviceReport = z.infer<typeof DeviceReportSchema>;

export const TelemetryEventSchema = z.object({
  /** Idempotency key chosen by the device: the server stores each id once, however often it is delivered. */
  id: z.string().min(8).max(128),
  at: z.string(),
  kind: z.enum(['infer', 'install', 'rollback', 'refused', 'health']),
  model: z.string().max(128).optional(),
  version: z.string().max(64).optional(),
  latencyMs: z.number().min(0).optional(),
  ok: z.boolean(),
  answeredBy: z.enum(['edge', 'server']).optional(),
  code: z.string().max(64).optional(),
  message: z.string().max(2000).optional(),
});
export type TelemetryEvent = z.infer<typeof TelemetryEventSchema>;

export const TelemetryBatchSchema = z.object({ events: z.array(TelemetryEventSchema).min(1).max(1000) });

export const DeviceSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  group: z.string().optional(),
  capabilities: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  lastSeenAt: z.string().optional(),
  /** model id -> { version, state } as last reported. */
  installed: z.record(z.string(), z.object({ version: z.string(), state: z.string() })),
  /**
   * model id -> what the server assigns the device now: the version, the variant chosen for its capabilities and
   * why (no variant: `reason` says why none fits).
   */
  assigned: z
    .record(z.string(), z.object({ version: z.string(), variant: z.string().optional(), precision: z.string().optional(), reason: z.string() }))
    .optional(),
  /** Recent local inference latencies (ms, oldest first) and error share, from telemetry. */
  latencies: z.array(z.number()),
  errorRate: z.number(),
  events: z.number(),
  /** Stored telemetry events by kind (infer, install, rollback, refused, health). */
  eventsByKind: z.record(z.string(), z.number()),
});
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;
