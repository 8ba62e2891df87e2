import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';

export interface StoredArtifact {
  sha256: string;
  size: number;
  path: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Content-addressed model files: ROOT/sha256/ab/cdef... (the first two hex digits name a folder, so no folder
 * grows past 256 entries per level). Writes go to a temp file in ROOT/tmp, are fsynced, then renamed into place:
 * a crash leaves either no file or a complete one, never a half-written artifact under its digest.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `artifact digest ${JSON.stringify(sha256)} is not 64 lowercase hex digits`);
    }
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2));
  }

  /** Store bytes, or a file read in chunks; returns the digest. Storing existing content is a no-op. */
  async put(source: Uint8Array | { file: string }): Promise<StoredArtifact> {
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = await open(tmp, 'wx');
    try {
      if (source instanceof Uint8Array) {
        hash.update(source);
        await out.write(source);
        size = source.length;
      } else {
        for await (const chunk of createReadStream(source.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          await out.write(chunk);
          size += chunk.length;
        }
      }
      await out.sync();
    } catch (err) {
      await out.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await out.close();
    const sha256 = hash.digest('hex');
    const path = this.pathOf(sha256);
    await mkdir(dirname(path), { recursive: true });
    await rename(tmp, path);
    await this.syncDir(dirname(path));
    return { sha256, size, path };
  }

  /** Whether the artifact is present with the expected size (cheap; content is verified by read()). */
  async has(sha256: string, size?: number): Promise<boolean> {
    try {
      const s = await stat(this.pathOf(sha256));
      return size === undefined || s.size === size;
    } catch {
      return false;
    }
  }

  /** The whole artifact, verified against its digest (ARTIFACT_DIGEST_MISMATCH when the file was damaged). */
  async read(sha256: string): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `artifact sha256:${sha256} is missing from ${this.root}`, { sha256 });
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new LeptonError('ARTIFACT_DIGEST_MISMATCH', `artifact sha256:${sha256} on disk hashes to ${actual}`, {
        expected: sha256,
        actual,
      });
    }
    // A fresh, exactly-sized buffer: readFile's may come from a pool, and the predictor keeps the bytes.
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  /**
   * A read stream for download routes (digest sent alongside, so clients verify what they got), optionally of
   * bytes start..end (inclusive, as in a Content-Range).
   */
  openStream(sha256: string, start = 0, end?: number): ReadStream {
    return createReadStream(this.pathOf(sha256), end === undefined ? { start } : { start, end });
  }

  /** Make the rename durable: without an fsync of the folder a crash can forget the new entry. */
  private async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
