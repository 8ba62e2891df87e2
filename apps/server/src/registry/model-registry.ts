import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import {
  ModelManifestSchema,
  type ModelManifest,
  VariantSessionOptionsSchema,
  type ModelRecord,
  type Variant,
  type VariantSessionOptions,
} from '@lepton/contracts';
import type { ModelService } from '@lepton/api';
import { lockForSeq } from '../db/dialect';
import type { RegistryDatabase } from '../db/schema';
import type { ArtifactStore, StoredArtifact } from './artifact-store';

export interface VariantInput {
  precision: Variant['precision'];
  target?: Variant['target'];
  opset?: number;
  /** Session options the artifact must run with, over the manifest's (stored as JSON). */
  sessionOptions?: VariantSessionOptions;
  /** The model file: bytes or a path (read in chunks into the artifact store). */
  source: Uint8Array | { file: string };
}

export interface ResolvedArtifact {
  record: ModelRecord;
  variant: Variant;
}

function variantId(precision: string, target: string): string {
  return target === 'any' ? precision : `${precision}-${target}`;
}

/** The column value: validated JSON, or null when the variant has no options of its own. */
function sessionOptionsColumn(options: VariantSessionOptions | undefined): string | null {
  if (options === undefined) return null;
  const parsed = VariantSessionOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LeptonError('BAD_REQUEST', `variant sessionOptions.${issue.path.join('.')}: ${issue.message}; expected graphOptimizationLevel, intraOpNumThreads, interOpNumThreads or executionMode`);
  }
  return Object.keys(parsed.data).length > 0 ? JSON.stringify(parsed.data) : null;
}

/** The longest version every route that names one accepts (models.get, the artifact query, telemetry). */
export const MAX_VERSION_LENGTH = 64;

/**
 * A version travels in URLs, HTTP headers, file and metric names and device telemetry: 1 to 64 characters, no
 * control characters (a newline or NUL in it made every artifact download of it die with a torn connection), no
 * space at either end. Any other Unicode is allowed. The manifest schema allowed any non-empty string, so a
 * 65-character version registered and then no route could fetch it.
 */
function checkVersion(version: string): void {
  const expected = `expected 1 to ${MAX_VERSION_LENGTH} characters, no control characters, no space at either end`;
  const fail = (why: string) => {
    throw new LeptonError('MANIFEST_INVALID', `manifest.version ${JSON.stringify(version.length > 80 ? `${version.slice(0, 80)}...` : version)} ${why}; ${expected}`, {
      field: 'manifest.version',
    });
  };
  if ([...version].length > MAX_VERSION_LENGTH) fail(`has ${[...version].length} characters`);
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.exec(version);
  if (control) fail(`holds the control character U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  if (version.trim() !== version) fail('starts or ends with a space');
}

/** Model versions, their manifests and variants, on Kysely (SQLite or PostgreSQL). */
export class ModelRegistry implements ModelService {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly artifacts: ArtifactStore,
  ) {}

  /**
   * Register a model version with its variants. Registering an (id, version) that exists returns the existing
   * record unchanged, so restarts and repeated bootstraps never duplicate a model.
   */
  async register(manifestInput: unknown, variants: VariantInput[]): Promise<{ record: ModelRecord; created: boolean }> {
    const parsed = ModelManifestSchema.safeParse(manifestInput);
    if (!parsed.success) {
      throw new LeptonError('MANIFEST_INVALID', `manifest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const manifest = parsed.data;
    checkVersion(manifest.version);
    const existing = await this.find(manifest.id, manifest.version);
    if (existing) return { record: existing, created: false };
    // Files first (idempotent, content-addressed), rows after in one transaction.
    const stored: { input: VariantInput; artifact: StoredArtifact }[] = [];
    for (const v of variants) stored.push({ input: v, artifact: await this.artifacts.put(v.source) });
    const now = new Date().toISOString();
    try {
      await this.insertVersion(manifest, stored, now);
    } catch (err) {
      // Another process sharing the database registered the same version first: theirs stands.
      const raced = await this.find(manifest.id, manifest.version);
      if (raced) return { record: raced, created: false };
      throw err;
    }
    return { record: (await this.find(manifest.id, manifest.version))!, created: true };
  }

  private async insertVersion(
    manifest: ModelManifest,
    stored: { input: VariantInput; artifact: StoredArtifact }[],
    now: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockForSeq(this.db, trx, 'model_versions');
      // Another connection may be registering another version of this new model: its row stands.
      await trx
        .insertInto('models')
        .values({ id: manifest.id, name: manifest.name, task: manifest.task, created_at: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const last = await trx
        .selectFrom('model_versions')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('model_id', '=', manifest.id)
        .executeTakeFirst();
      await trx
        .insertInto('model_versions')
        .values({ model_id: manifest.id, version: manifest.version, seq: Number(last?.seq ?? 0) + 1, manifest: JSON.stringify(manifest), created_at: now })
        .execute();
      for (const { input, artifact } of stored) {
        const target = input.target ?? 'any';
        await trx
          .insertInto('artifacts')
          .values({ sha256: artifact.sha256, size: artifact.size, created_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute();
        await trx
          .insertInto('variants')
          .values({
            model_id: manifest.id,
            version: manifest.version,
            variant_id: variantId(input.precision, target),
            precision: input.precision,
            target,
            sha256: artifact.sha256,
            size: artifact.size,
            opset: input.opset ?? null,
            session_options: sessionOptionsColumn(input.sessionOptions),
          })
          .execute();
      }
    });
  }

  /**
   * Add a variant to a registered version (what the variant jobs build). The file goes into the artifact store
   * first; a variant id that exists already is left as it is and returned.
   */
  async addVariant(id: string, version: string, input: VariantInput): Promise<Variant> {
    await this.get(id, version);
    const sessionOptions = sessionOptionsColumn(input.sessionOptions);
    const artifact = await this.artifacts.put(input.source);
    const target = input.target ?? 'any';
    const vid = variantId(input.precision, target);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('artifacts')
        .values({ sha256: artifact.sha256, size: artifact.size, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      await trx
        .insertInto('variants')
        .values({ model_id: id, version, variant_id: vid, precision: input.precision, target, sha256: artifact.sha256, size: artifact.size, opset: input.opset ?? null, session_options: sessionOptions })
        .onConflict((oc) => oc.columns(['model_id', 'version', 'variant_id']).doNothing())
        .execute();
    });
    return (await this.get(id, version)).variants.find((v) => v.id === vid)!;
  }

  /** Every model version, models by id, newest version first. */
  async list(): Promise<ModelRecord[]> {
    const rows = await this.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_id')
      .select(['models.id', 'models.name', 'models.task', 'model_versions.version', 'model_versions.manifest', 'model_versions.created_at'])
      .orderBy('models.id')
      .orderBy('model_versions.seq', 'desc')
      .execute();
    const variants = await this.db.selectFrom('variants').selectAll().orderBy('variant_id').execute();
    return rows.map((r) => this.toRecord(r, variants.filter((v) => v.model_id === r.id && v.version === r.version)));
  }

  /** One version (the latest when `version` is omitted). MODEL_NOT_FOUND names what exists. */
  async get(id: string, version?: string): Promise<ModelRecord> {
    const found = await this.find(id, version);
    if (found) return found;
    const known = await this.db.selectFrom('model_versions').select(['model_id', 'version']).orderBy('model_id').execute();
    const list = known.map((k) => `${k.model_id}@${k.version}`).join(', ') || '(none)';
    const what = version === undefined ? `model ${JSON.stringify(id)}` : `model ${JSON.stringify(id)} version ${JSON.stringify(version)}`;
    throw new LeptonError('MODEL_NOT_FOUND', `${what} is not registered; registered: ${list}`, { id, ...(version ? { version } : {}) });
  }

  /**
   * The variant to hand out for a precision (default fp32) and target: an exact target match first, then
   * 'any'. ARTIFACT_NOT_FOUND lists the variants that exist.
   */
  async resolveVariant(id: string, opts: { version?: string; precision?: string; target?: string } = {}): Promise<ResolvedArtifact> {
    const record = await this.get(id, opts.version);
    const precision = opts.precision ?? 'fp32';
    const target = opts.target ?? 'any';
    const candidates = record.variants.filter((v) => v.precision === precision);
    const variant = candidates.find((v) => v.target === target) ?? candidates.find((v) => v.target === 'any');
    if (!variant) {
      const have = record.variants.map((v) => `${v.precision}/${v.target}`).join(', ') || '(none)';
      throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${id}@${record.version} has no ${precision} variant for target ${target}; variants: ${have}`, {
        id,
        version: record.version,
        precision,
      });
    }
    return { record, variant };
  }

  private async find(id: string, version?: string): Promise<ModelRecord | undefined> {
    let q = this.db
      .selectFrom('model_versions')
      .innerJoin('models', 'models.id', 'model_versions.model_id')
      .select(['models.id', 'models.name', 'models.task', 'model_versions.version', 'model_versions.manifest', 'model_versions.created_at'])
      .where('models.id', '=', id);
    q = version === undefined ? q.orderBy('model_versions.seq', 'desc') : q.where('model_versions.version', '=', version);
    const row = await q.limit(1).executeTakeFirst();
    if (!row) return undefined;
    const variants = await this.db
      .selectFrom('variants')
      .selectAll()
      .where('model_id', '=', id)
      .where('version', '=', row.version)
      .orderBy('variant_id')
      .execute();
    return this.toRecord(row, variants);
  }

  private toRecord(
    row: { id: string; name: string; task: string; version: string; manifest: string; created_at: string },
    variants: RegistryDatabase['variants'][],
  ): ModelRecord {
    const manifest = JSON.parse(row.manifest) as ModelManifest;
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      task: manifest.task,
      manifest,
      variants: variants.map((v) => ({
        id: v.variant_id,
        precision: v.precision as Variant['precision'],
        target: v.target as Variant['target'],
        sha256: v.sha256,
        size: Number(v.size),
        ...(v.opset !== null ? { opset: v.opset } : {}),
        ...(v.session_options ? { sessionOptions: VariantSessionOptionsSchema.parse(JSON.parse(v.session_options)) } : {}),
      })),
      createdAt: row.created_at,
    };
  }
}
