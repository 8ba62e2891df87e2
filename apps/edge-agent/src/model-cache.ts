import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import { ModelRecordSchema, SignedVariantSchema, type ModelRecord, type SignedVariant } from '@lepton/contracts';
import { writeFileAtomic } from './atomic-file';
import type { SignatureVerifier } from './signature';

/**
 * On-disk model cache, one folder per model id:
 *   models/<id>/state.json          { current, previous? } (written atomically, last)
 *   models/<id>/<sha256>.onnx       verified artifacts, content-addressed
 *   models/<id>/<sha256>.partial    an interrupted download (resumed with HTTP Range)
 * An update puts the new artifact in place first and switches state.json after, so a crash at any point leaves
 * a consistent cache. Each entry keeps the server's signature: a load re-checks digest, size, signature and
 * manifest digest, so nothing on disk is trusted on its say-so. The previous version stays for rollback.
 */
const CacheEntrySchema = z.object({
  version: z.string(),
  variant: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  record: ModelRecordSchema,
  cachedAt: z.string(),
  signed: SignedVariantSchema,
  deploymentId: z.string().optional(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const CacheStateSchema = z.object({ current: CacheEntrySchema, previous: CacheEntrySchema.optional() });
export type CacheState = z.infer<typeof CacheStateSchema>;

export interface LoadedModel {
  entry: CacheEntry;
  bytes: Uint8Array;
}

export class ModelCache {
  constructor(
    readonly root: string,
    private readonly verifier: SignatureVerifier,
  ) {}

  modelDir(id: string): string {
    return join(this.root, 'models', id);
  }

  artifactPath(id: string, sha256: string): string {
    return join(this.modelDir(id), `${sha256}.onnx`);
  }

  /** Size of a cached artifact file, or undefined when it is not there (content is checked on load). */
  async artifactSize(id: string, sha256: string): Promise<number | undefined> {
    return (await stat(this.artifactPath(id, sha256)).catch(() => undefined))?.size;
  }

  async state(id: string): Promise<CacheState | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.modelDir(id), 'state.json'), 'utf8');
    } catch {
      return undefined;
    }
    // A state file we cannot read is treated as no cache: the agent re-downloads rather than guessing.
    const parsed = CacheStateSchema.safeParse(safeJson(text));
    return parsed.success ? parsed.data : undefined;
  }

  /** Every cached model's current record (for models.list while offline). */
  async records(): Promise<ModelRecord[]> {
    const out: ModelRecord[] = [];
    for (const id of await this.ids()) {
      const s = await this.state(id);
      if (s) out.push(s.current.record);
    }
    return out;
  }

  /** Current version, else the previous one, verified. Throws ARTIFACT_NOT_FOUND, _DIGEST_MISMATCH or SIGNATURE_INVALID. */
  async load(id: string): Promise<LoadedModel> {
    const s = await this.state(id);
    if (!s) throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${id} is not in the edge cache at ${this.modelDir(id)}`);
    let firstError: LeptonError | undefined;
    for (const entry of [s.current, s.previous]) {
      if (!entry) continue;
      try {
        return await this.loadEntry(id, entry);
      } catch (err) {
        firstError ??= err as LeptonError;
      }
    }
    throw firstError!;
  }

  /** Read one cached version and check signature, manifest, size and digest (a mismatching file is deleted). */
  async loadEntry(id: string, entry: CacheEntry): Promise<LoadedModel> {
    this.verifier.verify(entry.signed, { model: id, version: entry.version });
    this.verifier.checkManifest(entry.signed, entry.record);
    const path = this.artifactPath(id, entry.sha256);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `cached artifact ${path} of model ${id}@${entry.version} is missing`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== entry.signed.payload.sha256 || bytes.byteLength !== entry.signed.payload.size) {
      await rm(path, { force: true });
      throw new LeptonError(
        'ARTIFACT_DIGEST_MISMATCH',
        `cached artifact of model ${id}@${entry.version} has sha256 ${actual}, expected ${entry.signed.payload.sha256}; file discarded`,
        { expected: entry.signed.payload.sha256, actual },
      );
    }
    return { entry, bytes };
  }

  /** Make a downloaded, verified artifact (already at artifactPath) the current version; the old one becomes previous. */
  async commit(record: ModelRecord, signed: SignedVariant, deploymentId: string | undefined): Promise<CacheEntry> {
    const p = signed.payload;
    const entry: CacheEntry = {
      version: record.version,
      variant: p.variantId,
      sha256: p.sha256,
      size: p.size,
      record,
      cachedAt: new Date().toISOString(),
      signed,
      ...(deploymentId !== undefined ? { deploymentId } : {}),
    };
    const old = await this.state(record.id);
    let previous = old?.previous;
    if (old && old.current.sha256 !== entry.sha256) previous = old.current;
    if (previous?.sha256 === entry.sha256) previous = undefined;
    await this.write(record.id, previous ? { current: entry, previous } : { current: entry });
    return entry;
  }

  /** Go back to the previous version (the current one failed); its artifact is deleted. */
  async rollback(id: string): Promise<CacheEntry | undefined> {
    const s = await this.state(id);
    if (!s?.previous) return undefined;
    const bad = s.current;
    await this.write(id, { current: s.previous });
    if (bad.sha256 !== s.previous.sha256) await rm(this.artifactPath(id, bad.sha256), { force: true });
    return s.previous;
  }

  /**
   * Keep the cache under `maxBytes`: first drop previous versions (oldest first), then whole models that are
   * not in `keep`. Current versions of kept models are never evicted. Returns the files removed.
   */
  async evict(maxBytes: number, keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    let total = await this.totalBytes();
    if (total <= maxBytes) return removed;
    const states: { id: string; s: CacheState }[] = [];
    for (const id of await this.ids()) {
      const s = await this.state(id);
      if (s) states.push({ id, s });
    }
    for (const { id, s } of states.sort((a, b) => (a.s.previous?.cachedAt ?? '').localeCompare(b.s.previous?.cachedAt ?? ''))) {
      if (total <= maxBytes) break;
      if (!s.previous) continue;
      await this.write(id, { current: s.current });
      total -= await this.removeFile(this.artifactPath(id, s.previous.sha256), removed);
    }
    for (const { id, s } of states.sort((a, b) => a.s.current.cachedAt.localeCompare(b.s.current.cachedAt))) {
      if (total <= maxBytes) break;
      if (keep.has(id)) continue;
      total -= await this.removeFile(this.artifactPath(id, s.current.sha256), removed);
      await rm(this.modelDir(id), { recursive: true, force: true });
    }
    return removed;
  }

  private async write(id: string, next: CacheState): Promise<void> {
    await writeFileAtomic(join(this.modelDir(id), 'state.json'), JSON.stringify(next, null, 2));
    // Only after the switch is durable may artifacts other than current/previous go (stale partials too).
    const keep = new Set([`${next.current.sha256}.onnx`, next.previous ? `${next.previous.sha256}.onnx` : '']);
    for (const name of await readdir(this.modelDir(id))) {
      if (name.endsWith('.onnx') && !keep.has(name)) await rm(join(this.modelDir(id), name), { force: true });
    }
  }

  private async totalBytes(): Promise<number> {
    let total = 0;
    for (const id of await this.ids()) {
      for (const name of await readdir(this.modelDir(id)).catch(() => [] as string[])) {
        if (name.endsWith('.onnx') || name.endsWith('.partial')) total += (await stat(join(this.modelDir(id), name)).catch(() => ({ size: 0 }))).size;
      }
    }
    return total;
  }

  private async removeFile(path: string, removed: string[]): Promise<number> {
    const size = (await stat(path).catch(() => ({ size: 0 }))).size;
    await rm(path, { force: true });
    removed.push(path);
    return size;
  }

  private async ids(): Promise<string[]> {
    return (await readdir(join(this.root, 'models')).catch(() => [] as string[])).sort();
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
