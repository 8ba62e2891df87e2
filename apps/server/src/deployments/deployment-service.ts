import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import {
  DeploymentCreateSchema,
  DeviceInstallStateSchema,
  type Assignment,
  type Deployment,
  type DeploymentCreate,
  type DeviceReport,
  type ModelRecord,
  type Variant,
} from '@lepton/contracts';
import type { DeviceCapabilities } from '@lepton/api';
import { lockForSeq } from '../db/dialect';
import type { RegistryDatabase } from '../db/schema';
import type { DeploymentsTable } from '../db/fleet-schema';
import type { ModelRegistry } from '../registry/model-registry';
import { manifestDigest, type Signer } from '../signing/signer';
import { chooseVariant } from './variant-choice';

type Target = Deployment['target'];
interface DeviceRow {
  id: string;
  group_name?: string | null;
}

/** One model of a device's plan: the deployment it follows and the variant chosen (or why none fits). */
export type PlannedModel = { deployment: DeploymentsTable; record: ModelRecord } & ({ variant: Variant; reason: string } | { error: LeptonError });

/** States after which a device no longer runs a deployment (it went back to the one before). */
const FAILED = new Set(['failed', 'rolled-back']);

/** Stable bucket 0..99 of a device within a deployment: the same devices stay in a staged rollout. */
export function bucketOf(deploymentId: string, deviceId: string): number {
  return parseInt(createHash('sha256').update(`${deploymentId}/${deviceId}`).digest('hex').slice(0, 8), 16) % 100;
}

function targets(target: Target, device: DeviceRow): boolean {
  if ('all' in target) return true;
  if ('group' in target) return device.group_name === target.group;
  return target.deviceIds.includes(device.id);
}

/**
 * Deployments: which model version each device should run. A device runs the newest active deployment of a
 * model that targets it (device list, group or all), has it in its percentage bucket, and that it has not failed;
 * otherwise the one before. A deployment halts when more than maxFailureRate of its devices failed, and every
 * device then falls back to the previous deployment: that is the rollout's rollback.
 */
export class DeploymentService {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly registry: ModelRegistry,
    private readonly signer: Signer,
  ) {}

  async create(input: DeploymentCreate, id = `dep_${randomUUID()}`): Promise<Deployment> {
    const d = DeploymentCreateSchema.parse(input);
    await this.registry.get(d.model, d.version); // MODEL_NOT_FOUND names what exists
    if ('deviceIds' in d.target) await this.checkEnrolled(d.target.deviceIds);
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      await lockForSeq(this.db, trx, 'deployments');
      const last = await trx.selectFrom('deployments').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
      await trx
        .insertInto('deployments')
        .values({
          id,
          seq: Number(last?.seq ?? 0) + 1,
          model_id: d.model,
          version: d.version,
          target: JSON.stringify(d.target),
          percent: d.percent,
          variant_policy: d.variantPolicy,
          max_failure_rate: d.maxFailureRate,
          error_rate_threshold: d.errorRateThreshold,
          status: 'active',
          halted_reason: null,
          created_at: now,
        })
        .execute();
    });
    return this.get(id);
  }

  /**
   * A deployment to device ids that are not enrolled would target nobody, silently: DEVICE_NOT_FOUND names them
   * (the first 10) before anything is written. Groups are not checked: devices may enroll into one later.
   */
  private async checkEnrolled(deviceIds: readonly string[]): Promise<void> {
    const wanted = [...new Set(deviceIds)];
    const known = new Set<string>();
    // Chunks keep each query under SQLite's and PostgreSQL's limits on bound parameters.
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.db.selectFrom('devices').select('id').where('id', 'in', wanted.slice(i, i + 500)).execute();
      for (const r of rows) known.add(r.id);
    }
    const unknown = wanted.filter((id) => !known.has(id));
    if (unknown.length === 0) return;
    const named = unknown.slice(0, 10).map((id) => JSON.stringify(id)).join(', ') + (unknown.length > 10 ? ` and ${unknown.length - 10} more` : '');
    const what =
      wanted.length === 1 ? `device ${named} is not enrolled` : `${unknown.length} of ${wanted.length} devices ${unknown.length === 1 ? 'is' : 'are'} not enrolled`;
    throw new LeptonError(
      'DEVICE_NOT_FOUND',
      `target.deviceIds: ${what} on this server${wanted.length === 1 ? '' : `: ${named}`}; see devices.list for the enrolled devices`,
      { unknown: unknown.slice(0, 100), count: unknown.length },
    );
  }

  /** The bundled model goes to every device unless someone deployed that model already. */
  async ensureDefault(model: string, version: string): Promise<void> {
    const any = await this.db.selectFrom('deployments').select('id').where('model_id', '=', model).executeTakeFirst();
    if (!any) await this.create({ model, version, target: { all: true } }, `dep_default_${model}`);
  }

  async get(id: string): Promise<Deployment> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new LeptonError('DEPLOYMENT_NOT_FOUND', `deployment ${JSON.stringify(id)} does not exist; see deployments.list`);
    return this.toDeployment(row);
  }

  async list(): Promise<Deployment[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().orderBy('seq', 'desc').execute();
    return Promise.all(rows.map((r) => this.toDeployment(r)));
  }

  async devicesOf(id: string): Promise<{ deviceId: string; state: string; message?: string; updatedAt: string }[]> {
    await this.get(id);
    const rows = await this.db.selectFrom('deployment_devices').selectAll().where('deployment_id', '=', id).orderBy('device_id').execute();
    return rows.map((r) => ({ deviceId: r.device_id, state: r.state, ...(r.message ? { message: r.message } : {}), updatedAt: r.updated_at }));
  }

  /**
   * What one device should run now and which variant, without writing anything (the fleet view shows it). A
   * model none of whose variants this device runs gets `error` instead of a variant; the others still go ahead.
   */
  async plan(device: DeviceRow, caps: DeviceCapabilities): Promise<PlannedModel[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().where('status', '=', 'active').orderBy('seq', 'desc').execute();
    const mine = await this.db.selectFrom('deployment_devices').selectAll().where('device_id', '=', device.id).execute();
    const failed = new Set(mine.filter((r) => FAILED.has(r.state)).map((r) => r.deployment_id));
    const chosen = new Map<string, DeploymentsTable>();
    for (const r of rows) {
      if (chosen.has(r.model_id) || failed.has(r.id)) continue;
      if (!targets(JSON.parse(r.target) as Target, device) || bucketOf(r.id, device.id) >= r.percent) continue;
      chosen.set(r.model_id, r);
    }
    const out: PlannedModel[] = [];
    for (const r of chosen.values()) {
      const record = await this.registry.get(r.model_id, r.version);
      try {
        out.push({ deployment: r, record, ...chooseVariant(record, caps, r.variant_policy) });
      } catch (err) {
        if (!(err instanceof LeptonError)) throw err;
        out.push({ deployment: r, record, error: err });
      }
    }
    return out;
  }

  /** What one device should run now, with a signed variant per model (models it can run no variant of are left out). */
  async assignmentsFor(device: DeviceRow, caps: DeviceCapabilities): Promise<Assignment[]> {
    const known = new Set((await this.db.selectFrom('deployment_devices').select('deployment_id').where('device_id', '=', device.id).execute()).map((r) => r.deployment_id));
    const out: Assignment[] = [];
    for (const p of await this.plan(device, caps)) {
      if (!('variant' in p)) continue;
      const { deployment: r, record, variant, reason } = p;
      const signed = this.signer.sign({
        modelId: record.id,
        version: record.version,
        variantId: variant.id,
        precision: variant.precision,
        sha256: variant.sha256,
        size: variant.size,
        manifestSha256: manifestDigest(record.manifest),
        // Signed with the bytes: they change what the device computes (absent: payload as before the field).
        ...(variant.sessionOptions ? { sessionOptions: variant.sessionOptions } : {}),
      });
      if (!known.has(r.id)) await this.setState(r.id, device.id, 'pending', null);
      out.push({ deploymentId: r.id, model: r.model_id, version: r.version, variantId: variant.id, reason, errorRateThreshold: r.error_rate_threshold, signed });
    }
    return out;
  }

  /** Whether `device` may download this artifact: it belongs to a variant of a version assigned to it. */
  async allows(device: DeviceRow, model: string, version: string, caps: DeviceCapabilities): Promise<boolean> {
    // Assigned now, or the version it runs while a newer one installs (it may need to re-fetch it).
    const rows = await this.db.selectFrom('deployment_devices').innerJoin('deployments', 'deployments.id', 'deployment_devices.deployment_id')
      .select('deployments.version').where('deployment_devices.device_id', '=', device.id).where('deployments.model_id', '=', model).execute();
    if (rows.some((r) => r.version === version)) return true;
    return (await this.assignmentsFor(device, caps)).some((a) => a.model === model && a.version === version);
  }

  async report(device: DeviceRow, reports: DeviceReport[]): Promise<number> {
    for (const rep of reports) {
      const d = await this.db.selectFrom('deployments').selectAll().where('id', '=', rep.deploymentId).executeTakeFirst();
      if (!d || !targets(JSON.parse(d.target) as Target, device)) {
        throw new LeptonError('FORBIDDEN', `deployment ${JSON.stringify(rep.deploymentId)} does not target device ${device.id}`);
      }
      await this.setState(d.id, device.id, rep.state, rep.message ?? null);
      if (FAILED.has(rep.state) && d.status === 'active') await this.maybeHalt(d);
    }
    return reports.length;
  }

  private async maybeHalt(d: DeploymentsTable): Promise<void> {
    const devices = await this.db.selectFrom('devices').select(['id', 'group_name']).execute();
    const inRollout = devices.filter((x) => targets(JSON.parse(d.target) as Target, x) && bucketOf(d.id, x.id) < d.percent).length;
    const failed = await this.db.selectFrom('deployment_devices').select('state').where('deployment_id', '=', d.id).execute();
    const n = failed.filter((f) => FAILED.has(f.state)).length;
    const share = n / Math.max(1, inRollout);
    if (share > d.max_failure_rate) {
      const reason = `${n} of ${inRollout} devices failed (${(share * 100).toFixed(0)}% > ${(d.max_failure_rate * 100).toFixed(0)}%)`;
      await this.db.updateTable('deployments').set({ status: 'halted', halted_reason: reason }).where('id', '=', d.id).execute();
    }
  }

  private async setState(deploymentId: string, deviceId: string, state: string, message: string | null): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .insertInto('deployment_devices')
      .values({ deployment_id: deploymentId, device_id: deviceId, state, message, updated_at: now })
      .onConflict((oc) => oc.columns(['deployment_id', 'device_id']).doUpdateSet({ state, message, updated_at: now }))
      .execute();
  }

  private async toDeployment(r: DeploymentsTable): Promise<Deployment> {
    const states = await this.db.selectFrom('deployment_devices').select('state').where('deployment_id', '=', r.id).execute();
    // Keys in lifecycle order (pending, installed, healthy, failed, rolled-back), so every client prints them alike.
    const counts: Record<string, number> = {};
    for (const state of DeviceInstallStateSchema.options) {
      const n = states.filter((s) => s.state === state).length;
      if (n > 0) counts[state] = n;
    }
    return {
      id: r.id,
      model: r.model_id,
      version: r.version,
      target: JSON.parse(r.target) as Target,
      percent: Number(r.percent),
      variantPolicy: r.variant_policy,
      maxFailureRate: Number(r.max_failure_rate),
      errorRateThreshold: Number(r.error_rate_threshold),
      status: r.status as Deployment['status'],
      createdAt: r.created_at,
      ...(r.halted_reason ? { haltedReason: r.halted_reason } : {}),
      counts,
    };
  }
}
