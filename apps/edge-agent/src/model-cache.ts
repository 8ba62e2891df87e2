import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import { ModelRecordSchema, type ModelRecord } from '@lepton/contracts';
import { writeFileAtomic } from './atomic-file';

/**
 * On-disk model cache, one folder per model id:
 *   models/<id>/state.json        { current, previous? } (written atomically, last)
 *   models/<id>/<sha256>.onnx     artifacts, content-addressed
 * An update writes the new artifact first and switches state.json after, so a crash at any point leaves a
 * consistent cache. The previous version is kept so a bad update can be rolled back without the server.
 */
const CacheEntrySchema = z.object({
  version: z.string(),
  variant: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
  record: ModelRecordSchema,
  cachedAt: z.string(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

const CacheStateSchema = z.object({ current: CacheEntrySchema, previous: CacheEntrySchema.optional() });
type CacheState = z.infer<typeof CacheStateSchema>;

export interface LoadedModel {
  entry: CacheEntry;
  bytes: Uint8Array;
}

export class ModelCache {
  constructor(readonly root: string) {}

  modelDir(id: string): string {
    return join(this.root, 'models', id);
  }

  artifactPath(id: string, sha256: string): string {
    return join(this.modelDir(id), `${sha256}.onnx`);
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
    let ids: string[];
    try {
      ids = await readdir(join(this.root, 'models'));
    } catch {
      return [];
    }
    const out: ModelRecord[] = [];
    for (const id of ids.sort()) {
      const s = await this.state(id);
      if (s) out.push(s.current.record);
    }
    return out;
  }

  /**
   * Read and verify the current artifact (falling back to the previous one). A file whose digest does not match
   * is deleted so the next sync downloads it again. Throws ARTIFACT_NOT_FOUND or ARTIFACT_DIGEST_MISMATCH.
   */
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

  /** Read one cached version and check its digest (a mismatching file is deleted). */
  async loadEntry(id: string, entry: CacheEntry): Promise<LoadedModel> {
    const path = this.artifactPath(id, entry.sha256);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `cached artifact ${path} of model ${id}@${entry.version} is missing`);
    }
    const actual = sha256Hex(bytes);
    if (actual !== entry.sha256) {
      await rm(path, { force: true });
      throw new LeptonError(
        'ARTIFACT_DIGEST_MISMATCH',
        `cached artifact of model ${id}@${entry.version} has sha256 ${actual}, expected ${entry.sha256}; file discarded`,
        { expected: entry.sha256, actual },
      );
    }
    return { entry, bytes };
  }

  /**
   * Stream a downloaded artifact into the cache, hashing as it arrives. On a digest mismatch the temp file is
   * discarded and ARTIFACT_DIGEST_MISMATCH thrown; the cache is untouched. Returns the bytes for the predictor.
   */
  async store(record: ModelRecord, variant: { id: string; sha256: string }, body: AsyncIterable<Uint8Array>): Promise<LoadedModel> {
    const dir = this.modelDir(record.id);
    await mkdir(dir, { recursive: true });
    const final = this.artifactPath(record.id, variant.sha256);
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const hash = createHash('sha256');
    const parts: Uint8Array[] = [];
    let size = 0;
    const fh = await open(tmp, 'w', 0o644);
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        parts.push(chunk);
        size += chunk.byteLength;
        await fh.write(chunk);
      }
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    const actual = hash.digest('hex');
    if (actual !== variant.sha256) {
      await rm(tmp, { force: true });
      throw new LeptonError(
        'ARTIFACT_DIGEST_MISMATCH',
        `downloaded artifact of model ${record.id}@${record.version} has sha256 ${actual}, expected ${variant.sha256}; file discarded`,
        { expected: variant.sha256, actual },
      );
    }
    await rename(tmp, final);
    const entry: CacheEntry = {
      version: record.version,
      variant: variant.id,
      sha256: actual,
      size,
      record,
      cachedAt: new Date().toISOString(),
    };
    await this.switchTo(record.id, entry);
    return { entry, bytes: concat(parts, size) };
  }

  private async switchTo(id: string, entry: CacheEntry): Promise<void> {
    const old = await this.state(id);
    let previous = old?.previous;
    if (old && old.current.sha256 !== entry.sha256) previous = old.current;
    if (previous?.sha256 === entry.sha256) previous = undefined;
    const next: CacheState = previous ? { current: entry, previous } : { current: entry };
    await writeFileAtomic(join(this.modelDir(id), 'state.json'), JSON.stringify(next, null, 2));
    // Only after the switch is durable may artifacts older than `previous` go.
    const keep = new Set([`${entry.sha256}.onnx`, previous ? `${previous.sha256}.onnx` : '', 'state.json']);
    for (const name of await readdir(this.modelDir(id))) {
      if (!keep.has(name) && name.endsWith('.onnx')) await rm(join(this.modelDir(id), name), { force: true });
    }
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

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
