import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import type { Assignment, DeviceReport, ModelRecord } from '@lepton/contracts';
import { createPredictor, manifestForVariant, type OrtModule, type Predictor } from '@lepton/runtime';
import type { CacheEntry, LoadedModel, ModelCache } from './model-cache';
import type { Upstream } from './upstream';
import type { SignatureVerifier } from './signature';
import type { NewEvent } from './outbox';
import { downloadVariant } from './download';

export interface LocalModel {
  record: ModelRecord;
  sha256: string;
  predictor: Predictor;
  /** Where the bytes came from on this start: freshly downloaded, or the verified cache. */
  origin: 'download' | 'cache';
  deploymentId: string | undefined;
}

interface Slot extends LocalModel {
  inflight: number;
  retired: boolean;
  /** Outcomes of the last healthMinCalls local runs (true: failed), the window the error rate is taken over. */
  recent: boolean[];
  threshold: number;
  healthy: boolean;
}

export type Log = (event: string, fields: Record<string, unknown>) => void;

export interface LocalModelsDeps {
  cache: ModelCache;
  upstream: Upstream;
  verifier: SignatureVerifier;
  ort: OrtModule;
  log: Log;
  event: (e: NewEvent) => void;
  /** Local calls before a new version's error rate is judged (healthy, or rolled back). */
  healthMinCalls: number;
}

const REFUSALS = new Set(['SIGNATURE_INVALID', 'ARTIFACT_DIGEST_MISMATCH']);

/**
 * The models this agent runs itself. `apply` brings them to what the server assigned (verify the signature,
 * download resumably, verify digest, cache, load, hot swap); `loadCached` serves the verified cache when the
 * server is unreachable. A version that fails to load, or whose local error rate passes its deployment's
 * threshold, is rolled back to the previous one and reported. In-flight requests finish on the predictor they
 * started on: a replaced predictor is released only once its last request is done.
 */
export class LocalModels {
  private readonly models = new Map<string, Slot>();
  private readonly problems = new Map<string, LeptonError>();
  /** Deployments that failed here; not retried (the server stops assigning them too). */
  private readonly failed = new Set<string>();
  /** Reports waiting to reach the server (sent by the sync loop; the server keeps the latest state). */
  reports: DeviceReport[] = [];

  constructor(private readonly d: LocalModelsDeps) {}

  get(id: string): LocalModel | undefined {
    return this.models.get(id);
  }

  problem(id: string): LeptonError | undefined {
    return this.problems.get(id);
  }

  records(): ModelRecord[] {
    return [...this.models.values()].map((m) => m.record);
  }

  /** Server unreachable: run what the cache holds, verified (current, else previous). */
  async loadCached(ids: readonly string[], opts: { quietIfMissing?: boolean } = {}): Promise<void> {
    for (const id of ids) {
      if (this.models.has(id)) continue;
      if (opts.quietIfMissing && !(await this.d.cache.state(id))) continue;
      try {
        await this.activate(await this.d.cache.load(id), 'cache');
        this.problems.delete(id);
      } catch (err) {
        this.setProblem(id, err);
      }
    }
  }

  /**
   * Bring the configured models to the server's assignments. `deferUpdates`: leave models that are already
   * running as they are (the start-up round, so a cached agent serves at once and updates in the background).
   */
  async apply(assignments: Assignment[], ids: readonly string[], opts: { deferUpdates?: boolean } = {}): Promise<void> {
    for (const id of ids) {
      const a = assignments.find((x) => x.model === id);
      const slot = this.models.get(id);
      if (!a) {
        if (!slot) this.setProblem(id, new LeptonError('ARTIFACT_NOT_FOUND', `model ${id} is not deployed to this device`));
        continue;
      }
      if (slot && slot.sha256 === a.signed.payload.sha256 && slot.record.version === a.version) {
        slot.threshold = a.errorRateThreshold;
        if (slot.deploymentId !== a.deploymentId) {
          slot.deploymentId = a.deploymentId;
          this.report(a, 'installed');
        }
        await this.repairCache(slot, a);
        continue;
      }
      if (this.failed.has(a.deploymentId)) continue;
      if (slot && opts.deferUpdates) {
        this.d.log('model.update-deferred', { model: id, running: slot.record.version, assigned: a.version });
        continue;
      }
      try {
        await this.install(a);
        this.problems.delete(id);
      } catch (err) {
        await this.installFailed(id, a, err);
      }
    }
  }

  private async install(a: Assignment): Promise<void> {
    const id = a.model;
    this.d.verifier.verify(a.signed, { model: id, version: a.version });
    const record = await this.d.upstream.getModel(id, a.version);
    this.d.verifier.checkManifest(a.signed, record);
    const state = await this.d.cache.state(id);
    let origin: LocalModel['origin'] = 'cache';
    let entry: CacheEntry | undefined =
      state?.current.sha256 === a.signed.payload.sha256 && state.current.version === a.version ? state.current : undefined;
    let loaded: LoadedModel | undefined;
    if (entry) {
      loaded = await this.d.cache.loadEntry(id, entry).catch((err: unknown) => {
        this.d.log('cache.invalid', { model: id, message: (err as Error).message });
        return undefined;
      });
    }
    if (!loaded) {
      const res = await downloadVariant(this.d.upstream, a.signed.payload, this.d.cache.modelDir(id));
      entry = await this.d.cache.commit(record, a.signed, a.deploymentId);
      this.d.log('model.downloaded', { model: id, version: a.version, sha256: entry.sha256, bytes: res.fetched, resumedFrom: res.resumedFrom });
      loaded = await this.d.cache.loadEntry(id, entry);
      origin = 'download';
    }
    await this.activate(loaded, origin, a);
    this.report(a, 'installed');
    this.d.event({ kind: 'install', model: id, version: a.version, ok: true });
  }

  /**
   * The running version must stay on disk, or the next start has nothing to serve while the server is down.
   * Someone deleting the artifact or state.json (a clean-up script, a full disk's victim) went unnoticed while the
   * model ran from memory; now it is fetched again (verified like any download) and the switch rewritten.
   */
  private async repairCache(slot: Slot, a: Assignment): Promise<void> {
    const id = a.model;
    const state = await this.d.cache.state(id);
    const size = await this.d.cache.artifactSize(id, slot.sha256);
    if (state?.current.sha256 === slot.sha256 && size === a.signed.payload.size) return;
    const missing = state?.current.sha256 !== slot.sha256 ? 'state.json' : 'artifact';
    this.d.log('cache.missing', { model: id, version: a.version, sha256: slot.sha256, missing });
    try {
      this.d.verifier.verify(a.signed, { model: id, version: a.version });
      this.d.verifier.checkManifest(a.signed, slot.record);
      if (size !== a.signed.payload.size) await downloadVariant(this.d.upstream, a.signed.payload, this.d.cache.modelDir(id));
      await this.d.cache.commit(slot.record, a.signed, a.deploymentId);
      this.d.log('cache.repaired', { model: id, version: a.version, sha256: slot.sha256 });
    } catch (err) {
      const e = isLeptonError(err) ? err : new LeptonError('INTERNAL', String(err));
      // Still serving from memory; the next round tries again.
      this.d.log('cache.repair-failed', { model: id, code: e.code, message: e.message });
    }
  }

  private async installFailed(id: string, a: Assignment, err: unknown): Promise<void> {
    const e = isLeptonError(err) ? err : new LeptonError('INTERNAL', `model ${id}: ${String(err)}`);
    if (REFUSALS.has(e.code)) {
      // Tampered artifact or manifest, or a foreign key: refuse it, say so, keep what verifies.
      this.d.log('artifact.refused', { model: id, version: a.version, code: e.code, message: e.message });
      this.d.event({ kind: 'refused', model: id, version: a.version, ok: false, code: e.code, message: e.message });
    } else if (e.code === 'MODEL_LOAD_FAILED') {
      await this.rollback(id, a, `version ${a.version} failed to load: ${e.message}`, 'rolled-back');
      return;
    } else {
      this.d.log('download.failed', { model: id, code: e.code, message: e.message });
    }
    if (!this.models.has(id)) {
      await this.loadCached([id]);
      if (!this.models.has(id)) this.setProblem(id, e);
    }
  }

  /** Back to the previous cached version, and tell the server (it may halt the rollout). */
  private async rollback(id: string, a: Assignment, why: string, state: 'failed' | 'rolled-back'): Promise<void> {
    this.failed.add(a.deploymentId);
    this.d.log('model.rollback', { model: id, version: a.version, message: why });
    const current = this.models.get(id);
    const cachedState = await this.d.cache.state(id);
    if (cachedState?.current.version === a.version) await this.d.cache.rollback(id);
    if (!current || current.record.version === a.version) {
      try {
        await this.activate(await this.d.cache.load(id), 'cache');
      } catch (err) {
        this.setProblem(id, err);
      }
    }
    this.report(a, state, why);
    this.d.event({ kind: 'rollback', model: id, version: a.version, ok: false, message: why });
  }

  /** Run `fn` on a local model, counting it in-flight (hot swap waits) and toward the version's health. */
  async track<T>(m: LocalModel, fn: () => Promise<T>, isCallerFault: (err: unknown) => boolean): Promise<T> {
    const slot = m as Slot;
    slot.inflight += 1;
    try {
      const out = await fn();
      this.outcome(slot, false);
      return out;
    } catch (err) {
      if (!isCallerFault(err)) this.outcome(slot, true);
      throw err;
    } finally {
      slot.inflight -= 1;
      if (slot.retired && slot.inflight === 0) void slot.predictor.release();
      this.judge(slot);
    }
  }

  private outcome(slot: Slot, failed: boolean): void {
    slot.recent.push(failed);
    if (slot.recent.length > this.d.healthMinCalls) slot.recent.shift();
  }

  private judge(slot: Slot): void {
    const n = slot.recent.length;
    if (slot.retired || n < this.d.healthMinCalls || slot.deploymentId === undefined) return;
    const rate = slot.recent.filter(Boolean).length / n;
    const a = { deploymentId: slot.deploymentId, model: slot.record.id, version: slot.record.version };
    if (rate > slot.threshold) {
      slot.retired = true;
      void this.rollback(slot.record.id, a as Assignment, `error rate ${(rate * 100).toFixed(0)}% over the last ${n} calls passed ${(slot.threshold * 100).toFixed(0)}%`, 'failed');
    } else if (!slot.healthy) {
      slot.healthy = true;
      this.report(a as Assignment, 'healthy');
    }
  }

  private async activate(loaded: LoadedModel, origin: LocalModel['origin'], a?: Assignment): Promise<void> {
    const id = loaded.entry.record.id;
    let predictor: Predictor;
    try {
      // The session options come from the signed payload (verified on every load), not the unsigned record.
      predictor = await createPredictor({ manifest: manifestForVariant(loaded.entry.record.manifest, loaded.entry.signed.payload), model: loaded.bytes, ort: this.d.ort });
    } catch (err) {
      throw new LeptonError('MODEL_LOAD_FAILED', `model ${id}@${loaded.entry.version} failed to load: ${(err as Error).message ?? String(err)}`);
    }
    const old = this.models.get(id);
    this.models.set(id, {
      record: loaded.entry.record,
      sha256: loaded.entry.sha256,
      predictor,
      origin,
      deploymentId: a?.deploymentId ?? loaded.entry.deploymentId,
      inflight: 0,
      retired: false,
      recent: [],
      threshold: a?.errorRateThreshold ?? 1,
      healthy: false,
    });
    if (old) {
      old.retired = true;
      if (old.inflight === 0) await old.predictor.release();
    }
    this.d.log('model.ready', { model: id, version: loaded.entry.version, sha256: loaded.entry.sha256, origin });
  }

  private report(a: Pick<Assignment, 'deploymentId' | 'model' | 'version'>, state: DeviceReport['state'], message?: string): void {
    this.reports = this.reports.filter((r) => r.deploymentId !== a.deploymentId);
    this.reports.push({ deploymentId: a.deploymentId, model: a.model, version: a.version, state, ...(message ? { message: message.slice(0, 2000) } : {}) });
  }

  private setProblem(id: string, err: unknown): void {
    const e = isLeptonError(err) ? err : new LeptonError('INTERNAL', `model ${id}: ${String(err)}`);
    this.problems.set(id, e);
    this.d.log('model.unavailable', { model: id, code: e.code, message: e.message });
  }

  async release(): Promise<void> {
    for (const m of this.models.values()) await m.predictor.release();
    this.models.clear();
  }
}
