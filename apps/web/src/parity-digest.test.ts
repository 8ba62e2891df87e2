import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@lepton/tensor-core';
import { feedsCanonicalBytes as apiBytes } from '@lepton/api';
import { feedsCanonicalBytes, sha256Hex } from './parity-digest';

// The page keeps its own copy of the digest layout (it may not import the api package's values); the parity
// report compares digests across platforms, so the two copies must give the same bytes for every dtype.
const calls: Record<string, Tensor>[] = [
  {
    input: { dtype: 'float32', shape: [1, 3], data: Float32Array.of(0.5, -0, NaN) },
    sr: { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) },
    h: { dtype: 'float16', shape: [2], data: Uint16Array.of(0x3c00, 0x7e01) },
  },
  {
    words: { dtype: 'string', shape: [2], data: ['héllo', ''] },
    mask: { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) },
    big: { dtype: 'uint64', shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
  },
];

describe('parity digest', () => {
  it('builds the same canonical bytes as @lepton/api', () => {
    expect(Buffer.from(feedsCanonicalBytes(calls)).toString('hex')).toBe(Buffer.from(apiBytes(calls)).toString('hex'));
  });

  it('hashes with WebCrypto to the same sha256 as node:crypto', async () => {
    const bytes = feedsCanonicalBytes(calls);
    expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
