import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import type { ModelRecord, Variant } from '@lepton/contracts';
import { createPredictor, type OrtModule, type Predictor } from '@lepton/runtime';
import type { ModelCache, LoadedModel } from './model-cache';
import type { Upstream } from './upstream';

export interface LocalModel {
  record: ModelRecord;
  sha256: string;
  predictor: Predictor;
  /** Where the bytes came from on this start: freshly downloaded, or the verified cache. */
  origin: 'download' | 'cache';
}

export type Log = (event: string, fields: Record<string, unknown>) => void;

/**
 * The models this agent runs itself. `sync` brings each configured model up to the server's current version
 * (download, verify, cache) or, when the server cannot be reached, loads the verified cache. A model that fails
 * is remembered with its error and left out, so requests for it are forwarded to the server instead.
 */
export class LocalModels {
  private readonly models = new Map<string, LocalModel>();
  private readonly problems = new Map<string, LeptonError>();

  constructor(
    private readonly cache: ModelCache,
    private readonly upstream: Upstream,
    private readonly ort: OrtModule,
    private readonly log: Log,
  ) {}

  get(id: string): LocalModel | undefined {
    return this.models.get(id);
  }

  problem(id: string): LeptonError | undefined {
    return this.problems.get(id);
  }

  records(): ModelRecord[] {
    return [...this.models.values()].map((m) => m.record);
  }

  async sync(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      try {
        const loaded = await this.fetchOrLoad(id);
        await this.activate(id, loaded.model, loaded.origin);
        this.problems.delete(id);
      } catch (err) {
        const e = isLeptonError(err) ? err : new LeptonError('INTERNAL', `model ${id}: ${String(err)}`);
        this.problems.set(id, e);
        this.log('model.unavailable', { model: id, code: e.code, message: e.message });
      }
    }
  }

  private async fetchOrLoad(id: string): Promise<{ model: LoadedModel; origin: LocalModel['origin'] }> {
    let record: ModelRecord;
    try {
      record = await this.upstream.getModel(id);
    } catch (err) {
      if (!isLeptonError(err) || err.code !== 'UPSTREAM_UNAVAILABLE') throw err;
      this.log('server.unreachable', { model: id, message: err.message });
      return { model: await this.cache.load(id), origin: 'cache' };
    }
    const variant = pickVariant(record);
    const state = await this.cache.state(id);
    if (state?.current.sha256 === variant.sha256) {
      try {
        return { model: await this.cache.loadEntry(id, state.current), origin: 'cache' };
      } catch (err) {
        this.log('cache.invalid', { model: id, message: (err as Error).message });
      }
    }
    try {
      const { body } = await this.upstream.fetchArtifact(id, record.version, variant.precision);
      const model = await this.cache.store(record, variant, body);
      this.log('model.downloaded', { model: id, version: record.version, sha256: variant.sha256, bytes: model.entry.size });
      return { model, origin: 'download' };
    } catch (err) {
      // A failed or tampered download must not take away a model that still verifies on disk.
      this.log('download.failed', { model: id, message: (err as Error).message });
      try {
        return { model: await this.cache.load(id), origin: 'cache' };
      } catch {
        throw err;
      }
    }
  }

  private async activate(id: string, loaded: LoadedModel, origin: LocalModel['origin']): Promise<void> {
    let predictor: Predictor;
    try {
      predictor = await createPredictor({ manifest: loaded.entry.record.manifest, model: loaded.bytes, ort: this.ort });
    } catch (err) {
      throw isLeptonError(err) ? err : new LeptonError('MODEL_LOAD_FAILED', `model ${id}@${loaded.entry.version} failed to load: ${String(err)}`);
    }
    const old = this.models.get(id);
    this.models.set(id, { record: loaded.entry.record, sha256: loaded.entry.sha256, predictor, origin });
    if (old) await old.predictor.release();
    this.log('model.ready', { model: id, version: loaded.entry.version, sha256: loaded.entry.sha256, origin });
  }

  async release(): Promise<void> {
    for (const m of this.models.values()) await m.predictor.release();
    this.models.clear();
  }
}

/** The variant an edge device runs: one built for edge, else one for any target, else the first. */
export function pickVariant(record: ModelRecord): Variant {
  const v =
    record.variants.find((x) => x.target === 'edge') ?? record.variants.find((x) => x.target === 'any') ?? record.variants[0];
  if (!v) throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no variants to download`);
  return v;
}
