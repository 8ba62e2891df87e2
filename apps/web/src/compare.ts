/** Numbers the page shows when it puts the browser's run next to the server's. */
export interface Comparison {
  /** Largest |browser - server| over all chunks; null when the chunk counts differ (nothing to compare 1:1). */
  maxAbsDiff: number | null;
  /** Chunk index where maxAbsDiff occurs (-1 when there is none). */
  maxAbsDiffAt: number;
  sameChunkCount: boolean;
}

export function compareProbabilities(browser: ArrayLike<number>, server: ArrayLike<number>): Comparison {
  if (browser.length !== server.length) {
    return { maxAbsDiff: null, maxAbsDiffAt: -1, sameChunkCount: false };
  }
  let max = 0;
  let at = browser.length > 0 ? 0 : -1;
  for (let i = 0; i < browser.length; i++) {
    const d = Math.abs(browser[i]! - server[i]!);
    // A NaN on one side is the largest possible disagreement; report it instead of letting `>` skip it.
    if (Number.isNaN(d)) return { maxAbsDiff: Number.NaN, maxAbsDiffAt: i, sameChunkCount: true };
    if (d > max) {
      max = d;
      at = i;
    }
  }
  return { maxAbsDiff: max, maxAbsDiffAt: at, sameChunkCount: true };
}

/** Milliseconds per chunk, or null for a run with no chunks. */
export function msPerChunk(ms: number, chunks: number): number | null {
  return chunks > 0 ? ms / chunks : null;
}
