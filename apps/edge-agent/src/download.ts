import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';
import type { SignedPayload } from '@lepton/contracts';
import type { Upstream } from './upstream';
import { syncDir } from './atomic-file';

export interface DownloadResult {
  path: string;
  /** Bytes fetched by this call (less than the size when an earlier attempt was resumed). */
  fetched: number;
  resumedFrom: number;
}

/**
 * Fetch one signed variant into `dir/<sha256>.onnx`, resumably: bytes land in `<sha256>.partial` (appended,
 * kept across crashes and restarts), an interrupted transfer continues with `Range: bytes=N-`, and only a file
 * whose size and sha256 match the signed payload is fsynced and renamed into place. A mismatch deletes the
 * partial file (ARTIFACT_DIGEST_MISMATCH) so the next attempt starts clean.
 */
export async function downloadVariant(upstream: Upstream, p: SignedPayload, dir: string): Promise<DownloadResult> {
  await mkdir(dir, { recursive: true });
  const final = join(dir, `${p.sha256}.onnx`);
  const partial = join(dir, `${p.sha256}.partial`);
  let have = await sizeOf(partial);
  if (have > p.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  let hash = createHash('sha256');
  if (have > 0) {
    for await (const chunk of createReadStream(partial, { end: have - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
  }
  let resumedFrom = have;
  const res = have < p.size ? await upstream.fetchArtifact(p.modelId, p.version, p.variantId, have, p.sha256) : undefined;
  let fetched = 0;
  let size = have;
  const fh = await open(partial, res && !res.partial ? 'w' : 'a', 0o644);
  try {
    if (res) {
      if (!res.partial && have > 0) {
        // The server sent the whole file (artifact changed, or no range support): the 'w' open truncated the
        // partial file, so start the hash over too.
        hash = createHash('sha256');
        size = 0;
        resumedFrom = 0;
      }
      for await (const chunk of res.body) {
        hash.update(chunk);
        size += chunk.byteLength;
        fetched += chunk.byteLength;
        if (size > p.size) break;
        await fh.write(chunk);
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const actual = hash.digest('hex');
  if (size !== p.size || actual !== p.sha256) {
    await rm(partial, { force: true });
    throw new LeptonError(
      'ARTIFACT_DIGEST_MISMATCH',
      `downloaded artifact of ${p.modelId}@${p.version} has ${size} bytes and sha256 ${actual}; the signed manifest says ${p.size} bytes, ${p.sha256}; file discarded`,
      { expected: p.sha256, actual, size, expectedSize: p.size },
    );
  }
  await rename(partial, final);
  await syncDir(dir);
  return { path: final, fetched, resumedFrom };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
