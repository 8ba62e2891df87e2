import { LeptonError } from '../errors';

/**
 * Splits a sample stream into fixed chunks of `size` new samples, each prefixed by the last `context` samples
 * of the previous chunk (zeros before the first). Frames have length context + size. The final partial chunk is
 * zero-padded by flush(); flush() emits nothing when no sample is pending. The frames depend only on the
 * sample sequence, never on how it was split across push() calls.
 */
export class Framer {
  /** The `size` new samples of the frame being filled. */
  private readonly pending: Float32Array;
  private filled = 0;
  /** The last `context` samples of the previous frame (zeros at the start). */
  private readonly tail: Float32Array;

  constructor(
    readonly size: number,
    readonly context: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new LeptonError('PIPELINE_INVALID', `framer size is ${String(size)}; expected a positive integer`, { parameter: 'size' });
    }
    if (!Number.isSafeInteger(context) || context < 0) {
      throw new LeptonError('PIPELINE_INVALID', `framer context is ${String(context)}; expected a non-negative integer`, {
        parameter: 'context',
      });
    }
    this.pending = new Float32Array(size);
    this.tail = new Float32Array(context);
  }

  /** Samples waiting for the next frame. */
  get pendingSamples(): number {
    return this.filled;
  }

  push(samples: Float32Array): Float32Array[] {
    const frames: Float32Array[] = [];
    let pos = 0;
    while (pos < samples.length) {
      const n = Math.min(this.size - this.filled, samples.length - pos);
      this.pending.set(samples.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === this.size) frames.push(this.emit());
    }
    return frames;
  }

  flush(): Float32Array[] {
    if (this.filled === 0) return [];
    this.pending.fill(0, this.filled);
    return [this.emit()];
  }

  private emit(): Float32Array {
    const { size, context } = this;
    const frame = new Float32Array(context + size);
    frame.set(this.tail);
    frame.set(this.pending, context);
    // The frame's own last `context` samples are the next frame's context (this also covers context > size).
    this.tail.set(frame.subarray(size));
    this.filled = 0;
    return frame;
  }
}
