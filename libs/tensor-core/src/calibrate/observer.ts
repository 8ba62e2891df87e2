import { checkLength, checkShape, invalid, normalizeAxis, product } from '../quant/validate';

/** What an observer reports for one tensor (or one channel). */
export interface CalibrationRange {
  /** Calibrated range, widened to include 0 (so 0 quantizes exactly). */
  min: number;
  max: number;
  /** Smallest and largest finite values seen (NaN when none). */
  dataMin: number;
  dataMax: number;
  /** Finite values observed. */
  count: number;
  /** NaN and +-Inf values skipped. */
  skippedNonFinite: number;
}

export interface ObserverOptions {
  /** Collect one range per index of this axis of the observed tensors (per-channel calibration). */
  axis?: number;
}

/**
 * Streaming calibration: feed batches with observe(), read ranges at any time. Non-finite values never reach
 * the statistics; they are counted in skippedNonFinite so a caller can tell dirty data from a real range.
 */
export abstract class RangeObserver {
  protected readonly axis: number | undefined;
  protected channels = 0;
  protected counts: number[] = [];
  protected skipped: number[] = [];
  protected mins: number[] = [];
  protected maxs: number[] = [];

  constructor(options: ObserverOptions = {}) {
    if (options.axis !== undefined && !Number.isInteger(options.axis)) invalid('axis', `is ${options.axis}; expected an integer`);
    this.axis = options.axis;
  }

  /** Add one batch. `shape` is required for per-axis observers and must keep the channel count. */
  observe(x: Float32Array, shape: readonly number[] = [x.length]): void {
    if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
    checkLength('x', x, checkShape('shape', shape));
    let outer = 1;
    let dim = 1;
    let inner = x.length;
    if (this.axis !== undefined) {
      const axis = normalizeAxis('axis', this.axis, shape.length);
      outer = product(shape, 0, axis);
      dim = shape[axis]!;
      inner = product(shape, axis + 1, shape.length);
    }
    if (this.channels === 0) this.init(dim);
    else if (dim !== this.channels) invalid('shape', `has ${dim} channels on axis ${this.axis}; earlier batches had ${this.channels}`);
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < dim; d++) this.scan(d, x, (o * dim + d) * inner, inner);
    }
  }

  /** Per-channel ranges (one entry for a per-tensor observer). */
  ranges(): CalibrationRange[] {
    const out: CalibrationRange[] = [];
    for (let c = 0; c < Math.max(this.channels, 1); c++) {
      const none = this.channels === 0 || this.counts[c] === 0;
      const [lo, hi] = none ? [0, 0] : this.computeRange(c);
      out.push({
        min: Math.min(lo, 0),
        max: Math.max(hi, 0),
        dataMin: none ? NaN : this.mins[c]!,
        dataMax: none ? NaN : this.maxs[c]!,
        count: this.counts[c] ?? 0,
        skippedNonFinite: this.skipped[c] ?? 0,
      });
    }
    return out;
  }

  /** The per-tensor range (throws for a per-axis observer with several channels). */
  range(): CalibrationRange {
    const r = this.ranges();
    if (r.length !== 1) invalid('range()', `was called on a per-axis observer with ${r.length} channels; use ranges()`);
    return r[0]!;
  }

  protected init(channels: number): void {
    this.channels = channels;
    this.counts = new Array<number>(channels).fill(0);
    this.skipped = new Array<number>(channels).fill(0);
    this.mins = new Array<number>(channels).fill(Infinity);
    this.maxs = new Array<number>(channels).fill(-Infinity);
  }

  private scan(c: number, x: Float32Array, start: number, n: number): void {
    let lo = this.mins[c]!;
    let hi = this.maxs[c]!;
    let skipped = 0;
    const end = start + n;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      // v - v is NaN exactly for NaN and +-Inf.
      if (v - v !== 0) {
        skipped++;
        continue;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.mins[c] = lo;
    this.maxs[c] = hi;
    this.skipped[c]! += skipped;
    this.counts[c]! += n - skipped;
    if (n - skipped > 0) this.collect(c, x, start, n);
  }

  /** Hook for observers that need the values themselves (histograms); only finite values may be used. */
  protected collect(_c: number, _x: Float32Array, _start: number, _n: number): void {
    // min-max needs only the extremes, which scan() already tracks
  }
  protected abstract computeRange(c: number): [number, number];
}

/** Range = [smallest, largest] finite value seen, widened to include 0. */
export class MinMaxObserver extends RangeObserver {
  protected computeRange(c: number): [number, number] {
    return [this.mins[c]!, this.maxs[c]!];
  }
}
