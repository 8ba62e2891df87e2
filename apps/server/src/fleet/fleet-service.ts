import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import type { DeviceSummary, ModelManifestInput, ModelRecord, Variant } from '@lepton/contracts';
import type { DeviceCapabilities, FleetService } from '@lepton/api';
import type { RegistryDatabase } from '../db/schema';
import type { ApiKeys } from '../auth/api-keys';
import type { DeviceRegistry } from '../devices/device-registry';
import type { DeploymentService } from '../deployments/deployment-service';
import type { TelemetryStore } from '../telemetry/telemetry-store';
import type { ModelRegistry } from '../registry/model-registry';
import type { Signer } from '../signing/signer';

interface Deps {
  db: Kysely<RegistryDatabase>;
  keys: ApiKeys;
  devices: DeviceRegistry;
  deployments: DeploymentService;
  telemetry: TelemetryStore;
  registry: ModelRegistry;
  signer: Signer;
  /** How long a device waits before its next sync (it adds jitter). */
  pollAfterMs: number;
  /** Queues the web/edge variant builds of a newly registered version. */
  variants?: { enqueueFor(record: ModelRecord): Promise<unknown> };
}

/** The server's FleetService: the tRPC fleet procedures over the registry's tables. */
export function createFleetService(deps: Deps): FleetService {
  const { db } = deps;
  async function deviceRow(id: string) {
    const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new LeptonError('UNAUTHORIZED', `device ${id} is not enrolled on this server`);
    return row;
  }

  return {
    createEnrollToken: (req) => deps.devices.createToken(req.ttlSeconds, req.group),
    createApiKey: (req) => deps.keys.create(req.name, req.role),
    listApiKeys: () => deps.keys.list(),
    revokeApiKey: (id) => deps.keys.revoke(id),
    publicKey: async () => ({ keyId: deps.signer.keyId, publicKey: deps.signer.publicKey }),

    async registerModel(req) {
      const out = await deps.registry.register(
        req.manifest as ModelManifestInput,
        req.variants.map((v) => ({ precision: v.precision as Variant['precision'], target: v.target as Variant['target'], source: v.data })),
      );
      // A model nobody deployed yet goes to every device that asks for it; later versions need a deployment.
      await deps.deployments.ensureDefault(out.record.id, out.record.version);
      if (out.created) await deps.variants?.enqueueFor(out.record);
      return out;
    },
    createDeployment: (req) => deps.deployments.create(req),
    listDeployments: () => deps.deployments.list(),
    async deploymentStatus(id) {
      const d = await deps.deployments.get(id);
      return { ...d, devices: await deps.deployments.devicesOf(id) };
    },

    async sync(deviceId, req) {
      const row = await deviceRow(deviceId);
      const caps = req.capabilities ?? (JSON.parse(row.capabilities) as DeviceCapabilities);
      await db
        .updateTable('devices')
        .set({ last_seen_at: new Date().toISOString(), ...(req.capabilities ? { capabilities: JSON.stringify(req.capabilities) } : {}) })
        .where('id', '=', deviceId)
        .execute();
      return { assignments: await deps.deployments.assignmentsFor(row, caps), pollAfterMs: deps.pollAfterMs };
    },
    async report(deviceId, reports) {
      const row = await deviceRow(deviceId);
      return { accepted: await deps.deployments.report(row, reports) };
    },
    async ingestTelemetry(deviceId, events) {
      await deviceRow(deviceId);
      return deps.telemetry.ingest(deviceId, events);
    },

    async listDevices(): Promise<DeviceSummary[]> {
      const rows = await db.selectFrom('devices').selectAll().orderBy('created_at').execute();
      const states = await db
        .selectFrom('deployment_devices')
        .innerJoin('deployments', 'deployments.id', 'deployment_devices.deployment_id')
        .select(['deployment_devices.device_id', 'deployments.model_id', 'deployments.version', 'deployment_devices.state', 'deployment_devices.updated_at'])
        .orderBy('deployment_devices.updated_at')
        .execute();
      const out: DeviceSummary[] = [];
      for (const r of rows) {
        const installed: DeviceSummary['installed'] = {};
        // Latest report per model wins; a failed version does not hide the one the device went back to.
        for (const s of states.filter((x) => x.device_id === r.id)) {
          const prev = installed[s.model_id];
          if (!prev || s.state !== 'pending' || prev.state === 'pending') installed[s.model_id] = { version: s.version, state: s.state };
          if ((s.state === 'failed' || s.state === 'rolled-back') && prev && prev.version !== s.version) installed[s.model_id] = prev;
        }
        const assigned: NonNullable<DeviceSummary['assigned']> = {};
        for (const p of await deps.deployments.plan(r, JSON.parse(r.capabilities) as DeviceCapabilities)) {
          assigned[p.record.id] =
            'variant' in p
              ? { version: p.record.version, variant: p.variant.id, precision: p.variant.precision, reason: p.reason }
              : { version: p.record.version, reason: `${p.error.code}: ${p.error.message}` };
        }
        out.push({
          id: r.id,
          name: r.name,
          ...(r.group_name ? { group: r.group_name } : {}),
          capabilities: JSON.parse(r.capabilities) as Record<string, unknown>,
          createdAt: r.created_at,
          ...(r.last_seen_at ? { lastSeenAt: r.last_seen_at } : {}),
          installed,
          assigned,
          ...(await deps.telemetry.summary(r.id)),
        });
      }
      return out;
    },
  };
}
