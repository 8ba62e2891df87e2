import { describe, expect, it } from 'vitest';
import { ReplayableSource } from './replayable-source';

async function* source(n: number, size: number, log: string[]): AsyncIterable<Uint8Array> {
  try {
    for (let i = 0; i < n; i++) yield new Uint8Array(size).fill(i);
    log.push('end');
  } finally {
    log.push('closed');
  }
}

async function readAll(src: AsyncIterable<Uint8Array>): Promise<number[]> {
  const firstBytes: number[] = [];
  for await (const c of src) firstBytes.push(c[0]!);
  return firstBytes;
}

describe('ReplayableSource', () => {
  it('replays what a reader consumed before it stopped, then the rest of the source', async () => {
    const log: string[] = [];
    const s = new ReplayableSource(source(5, 10, log), 1000);
    let seen = 0;
    for await (const c of s.first()) {
      expect(c[0]).toBe(seen);
      if (++seen === 2) break;
    }
    expect(log).toEqual([]); // stopping early did not close the source
    expect(await readAll(s.replay()!)).toEqual([0, 1, 2, 3, 4]);
    expect(log).toEqual(['end', 'closed']);
  });

  it('replays a fully read source from the kept chunks alone', async () => {
    const s = new ReplayableSource(source(3, 4, []), 12);
    expect(await readAll(s.first())).toEqual([0, 1, 2]);
    expect(await readAll(s.replay()!)).toEqual([0, 1, 2]);
  });

  it('gives no replay once more than `limit` bytes were consumed, and only one replay', async () => {
    const over = new ReplayableSource(source(3, 10, []), 25);
    await readAll(over.first());
    expect(over.replay()).toBeUndefined();
    const once = new ReplayableSource(source(1, 10, []), 25);
    await readAll(once.first());
    expect(once.replay()).toBeDefined();
    expect(once.replay()).toBeUndefined();
  });

  it('keeps copies, so a source that reuses its buffer still replays the original bytes', async () => {
    const buf = new Uint8Array(4);
    async function* reusing(): AsyncIterable<Uint8Array> {
      for (let i = 1; i <= 3; i++) yield buf.fill(i);
    }
    const s = new ReplayableSource(reusing(), 100);
    await readAll(s.first());
    expect(await readAll(s.replay()!)).toEqual([1, 2, 3]);
  });
});
