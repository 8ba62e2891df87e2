/**
 * A one-shot byte stream that can be read a second time from the start. The first reader gets the chunks as they
 * arrive, and what it consumed is kept (up to `limit` bytes); a replay yields the kept chunks and then continues
 * with the rest of the source. The agent uses it to forward an upload to the server after its local model failed
 * part-way, without buffering whole files up front: past `limit` the kept chunks are dropped and no replay is
 * possible, so memory stays bounded whatever the upload's length.
 */
export class ReplayableSource {
  private readonly it: AsyncIterator<Uint8Array>;
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private overflowed = false;
  private used = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly limit: number,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The first pass. A reader that stops early (error, break) leaves the source open for a replay. */
  first(): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const r = await this.it.next();
          if (!r.done) this.keep(r.value);
          return r;
        },
        return: async () => ({ done: true as const, value: undefined }),
      }),
    };
  }

  /** Everything from the start again; undefined when more than `limit` bytes had been consumed (or replayed once). */
  replay(): AsyncIterable<Uint8Array> | undefined {
    if (this.overflowed || this.used) return undefined;
    this.used = true;
    const kept = this.kept.splice(0);
    const it = this.it;
    return (async function* () {
      yield* kept;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })();
  }

  private keep(chunk: Uint8Array): void {
    if (this.overflowed) return;
    if (this.keptBytes + chunk.byteLength > this.limit) {
      this.overflowed = true;
      this.kept.length = 0;
      this.keptBytes = 0;
      return;
    }
    // Copied: some sources reuse their chunk buffers once the reader has moved on.
    this.kept.push(chunk.slice());
    this.keptBytes += chunk.byteLength;
  }
}
