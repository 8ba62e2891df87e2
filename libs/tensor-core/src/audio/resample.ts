import { LeptonError } from '../errors';
import { WAV_MAX_RATE, WAV_MIN_RATE } from './wav-format';
import { polyphaseFilter, type PolyphaseFilter } from './resample-filter';

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < WAV_MIN_RATE || rate > WAV_MAX_RATE) {
    throw new LeptonError('PIPELINE_INVALID', `resampler ${name} is ${String(rate)}; expected an integer rate from ${WAV_MIN_RATE} to ${WAV_MAX_RATE} Hz`, {
      parameter: name,
    });
  }
}

/**
 * Streaming resampler (band-limited windowed sinc, Kaiser window, polyphase for the reduced ratio; the cutoff
 * sits at 90 % of the lower Nyquist frequency, so down-sampling is anti-aliased). Output sample k is the value
 * at input time k * fromRate / toRate, computed from the absolute input indices around it (zeros before the
 * first sample and, at flush(), after the last), accumulated in float64 in a fixed order and rounded once to
 * float32: any chunking of the input gives bit-identical output. Equal rates copy the input unchanged.
 * A stream of N input samples yields ceil(N * toRate / fromRate) output samples in total.
 */
export class Resampler {
  private readonly filter: PolyphaseFilter | undefined;
  private readonly half: number;
  private readonly rowScratch: Float64Array | undefined;
  /** Input samples from absolute index `bufStart`, `bufLen` of them valid. */
  private buf = new Float32Array(0);
  private bufStart = 0;
  private bufLen = 0;
  /** Next output: its index, the input index n0 at or before its instant, and its phase. */
  private k = 0;
  private n0 = 0;
  private phase = 0;
  private flushed = false;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    checkRate('fromRate', fromRate);
    checkRate('toRate', toRate);
    if (fromRate === toRate) {
      this.filter = undefined;
      this.half = 0;
      this.rowScratch = undefined;
    } else {
      this.filter = polyphaseFilter(fromRate, toRate);
      this.half = this.filter.taps / 2;
      this.rowScratch = this.filter.table ? undefined : new Float64Array(this.filter.taps);
    }
  }

  /** Total input samples seen so far. */
  get inputLength(): number {
    return this.bufStart + this.bufLen;
  }

  /** Output samples emitted so far. */
  get outputLength(): number {
    return this.k;
  }

  push(samples: Float32Array): Float32Array {
    if (this.flushed) throw new LeptonError('PIPELINE_INVALID', 'Resampler.push called after flush()');
    if (!this.filter) {
      this.k += samples.length;
      return samples.slice();
    }
    this.append(samples);
    return this.produce(Infinity);
  }

  /** Emit the tail (input end treated as zeros beyond the last sample). */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    if (!this.filter) return new Float32Array(0);
    const total = this.inputLength;
    const { up, down } = this.filter;
    // Outputs whose instants lie before the end of the input: k * down / up < total.
    const lastK = Math.ceil((total * up) / down);
    // Pad with zeros so every remaining output finds its taps in the buffer.
    this.append(new Float32Array(this.half + 1));
    return this.produce(lastK);
  }

  private append(samples: Float32Array): void {
    const needed = this.bufLen + samples.length;
    if (needed > this.buf.length) {
      const grown = new Float32Array(Math.max(needed, this.buf.length * 2, 1024));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
  }

  /** Produce outputs while their last tap (input n0 + half) is in the buffer and k < `maxK`. */
  private produce(maxK: number): Float32Array {
    const f = this.filter!;
    const { up, down, taps } = f;
    const half = this.half;
    // Count first so the output is allocated once.
    let count = 0;
    {
      let n0 = this.n0;
      let ph = this.phase;
      while (this.k + count < maxK && n0 + half < this.bufStart + this.bufLen) {
        count++;
        ph += down;
        n0 += Math.floor(ph / up);
        ph %= up;
      }
    }
    const out = new Float32Array(count);
    const buf = this.buf;
    const table = f.table;
    for (let i = 0; i < count; i++) {
      let row: Float64Array;
      let base: number;
      if (table) {
        row = table;
        base = this.phase * taps;
      } else {
        row = this.rowScratch!;
        f.row(this.phase, row);
        base = 0;
      }
      // Inputs before the stream start are zeros; skip their taps rather than storing them.
      const first = this.n0 - half + 1;
      let j0 = 0;
      if (first < 0) j0 = -first;
      let acc = 0;
      let at = first + j0 - this.bufStart;
      for (let j = j0; j < taps; j++) acc += row[base + j]! * buf[at++]!;
      out[i] = acc;
      this.phase += down;
      this.n0 += Math.floor(this.phase / up);
      this.phase %= up;
    }
    this.k += count;
    this.discard();
    return out;
  }

  /** Drop inputs no future output can reach (before n0 - half + 1), keeping the buffer small. */
  private discard(): void {
    const keepFrom = this.n0 - this.half + 1;
    const drop = Math.min(Math.max(0, keepFrom - this.bufStart), this.bufLen);
    if (drop < 4096 && drop < this.bufLen) return;
    this.buf.copyWithin(0, drop, this.bufLen);
    this.bufStart += drop;
    this.bufLen -= drop;
  }
}

/** Resample a whole signal (one push + flush). */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  const r = new Resampler(fromRate, toRate);
  const a = r.push(samples);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
