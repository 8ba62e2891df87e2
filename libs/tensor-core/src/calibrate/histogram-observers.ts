import { checkFinite, checkInteger, invalid } from '../quant/validate';
import { SymmetricHistogram } from './histogram';
import { RangeObserver, type ObserverOptions } from './observer';

export interface HistogramObserverOptions extends ObserverOptions {
  /** Number of histogram bins (even, default 2048). More bins resolve smaller thresholds. */
  bins?: number;
}

/** Base for observers that choose a range from a histogram of the values. */
abstract class HistogramObserver extends RangeObserver {
  protected readonly binCount: number;
  protected hists: SymmetricHistogram[] = [];

  constructor(options: HistogramObserverOptions = {}) {
    super(options);
    this.binCount = checkInteger('bins', options.bins ?? 2048, 16, 1 << 20);
    if (this.binCount % 4 !== 0) invalid('bins', `is ${this.binCount}; expected a multiple of 4`);
  }

  protected override init(channels: number): void {
    super.init(channels);
    this.hists = Array.from({ length: channels }, () => new SymmetricHistogram(this.binCount));
  }

  protected override collect(c: number, x: Float32Array, start: number, n: number): void {
    this.hists[c]!.add(x, start, n);
  }
}

export interface PercentileObserverOptions extends HistogramObserverOptions {
  /** Share of values kept inside the range, in percent (default 99.99). */
  percentile?: number;
  /** Symmetric: one threshold from |x| for both ends. */
  symmetric?: boolean;
}

/**
 * Range that keeps `percentile`% of the values: asymmetric ranges cut (100 - p) / 2 % from each tail, symmetric
 * ranges cut (100 - p)% of |x|. Thresholds are bin edges (rounded outward), clipped to the data's extremes.
 */
export class PercentileObserver extends HistogramObserver {
  private readonly percentile: number;
  private readonly symmetric: boolean;

  constructor(options: PercentileObserverOptions = {}) {
    super(options);
    this.percentile = checkFinite('percentile', options.percentile ?? 99.99, true);
    if (this.percentile > 100) invalid('percentile', `is ${this.percentile}; expected a number in (0, 100]`);
    this.symmetric = options.symmetric ?? false;
  }

  protected computeRange(c: number): [number, number] {
    const h = this.hists[c]!;
    const total = h.total();
    const cut = total * (1 - this.percentile / 100);
    if (this.symmetric) {
      const folded = h.folded();
      let acc = 0;
      let k = folded.length - 1;
      // Walk down from the top bin while the discarded mass stays within the cut.
      while (k > 0 && acc + folded[k]! <= cut) {
        acc += folded[k]!;
        k--;
      }
      const a = Math.min(((k + 1) * h.radius) / folded.length, Math.max(-this.mins[c]!, this.maxs[c]!));
      return [-a, a];
    }
    const tail = cut / 2;
    let lo = 0;
    let acc = 0;
    while (lo < h.size - 1 && acc + h.bins[lo]! <= tail) acc += h.bins[lo++]!;
    let hi = h.size - 1;
    acc = 0;
    while (hi > lo && acc + h.bins[hi]! <= tail) acc += h.bins[hi--]!;
    return [Math.max(h.edge(lo), this.mins[c]!), Math.min(h.edge(hi + 1), this.maxs[c]!)];
  }
}

export interface EntropyObserverOptions extends HistogramObserverOptions {
  /** Quantized levels on each side of zero to simulate (default 128, i.e. 8 bits). */
  targetBins?: number;
}

/**
 * Symmetric threshold minimizing the KL divergence between the |x| histogram clipped at the threshold and its
 * quantization to `targetBins` levels (the TensorRT entropy calibration, as onnxruntime's calibrator does it).
 */
export class EntropyObserver extends HistogramObserver {
  private readonly targetBins: number;

  constructor(options: EntropyObserverOptions = {}) {
    super(options);
    this.targetBins = checkInteger('targetBins', options.targetBins ?? 128, 2, 1 << 16);
    if (this.targetBins > this.binCount / 2) invalid('targetBins', `is ${this.targetBins}; expected at most bins / 2 = ${this.binCount / 2}`);
  }

  protected computeRange(c: number): [number, number] {
    const h = this.hists[c]!;
    const a = entropyThreshold(h.folded(), this.targetBins) * (h.radius / (this.binCount / 2));
    const bound = Math.max(-this.mins[c]!, this.maxs[c]!);
    const t = Math.min(a, bound);
    return [Math.max(-t, this.mins[c]!), Math.min(t, this.maxs[c]!)];
  }
}

/** Threshold, in bins of `hist`, minimizing KL(P || Q). Scratch arrays are allocated once, outside the loops. */
export function entropyThreshold(hist: Float64Array, target: number): number {
  const n = hist.length;
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  let best = n;
  let bestKl = Infinity;
  let outliers = 0;
  for (let k = target; k < n; k++) outliers += hist[k]!;
  for (let i = target; i <= n; i++) {
    // P: the first i bins, with everything beyond folded into the last one (clipping error).
    for (let k = 0; k < i; k++) p[k] = hist[k]!;
    p[i - 1]! += outliers;
    if (i < n) outliers -= hist[i]!;
    // Q: the first i bins without the outliers (the clipping error is what the divergence measures), merged into `target` groups, each group's mass spread evenly over its non-empty bins.
    const per = i / target;
    for (let g = 0; g < target; g++) {
      const from = Math.floor(g * per);
      const to = g === target - 1 ? i : Math.floor((g + 1) * per);
      let mass = 0;
      let nonEmpty = 0;
      for (let k = from; k < to; k++) {
        mass += hist[k]!;
        if (hist[k]! > 0) nonEmpty++;
      }
      for (let k = from; k < to; k++) q[k] = hist[k]! > 0 ? mass / nonEmpty : 0;
    }
    const kl = divergence(p, q, i);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best;
}

function divergence(p: Float64Array, q: Float64Array, n: number): number {
  let sp = 0;
  let sq = 0;
  for (let k = 0; k < n; k++) {
    sp += p[k]!;
    sq += q[k]!;
  }
  if (sp === 0 || sq === 0) return 0;
  let kl = 0;
  for (let k = 0; k < n; k++) {
    const pk = p[k]! / sp;
    if (pk === 0) continue;
    // A bin P has but Q lacks gets Q's smallest share instead of infinity, as the reference algorithm smooths it.
    const qk = q[k]! > 0 ? q[k]! / sq : 1e-12;
    kl += pk * Math.log(pk / qk);
  }
  return kl;
}

export interface MseObserverOptions extends HistogramObserverOptions {
  /** Integer levels of the target type (default 256 for 8-bit). */
  levels?: number;
  /** Candidate thresholds tried between 0 and the data's absolute maximum (default 200). */
  candidates?: number;
}

/**
 * Symmetric threshold minimizing the expected squared quantization error over the histogram: values inside
 * the range cost their rounding error (step^2 / 12), values outside cost their clipping distance squared.
 */
export class MseObserver extends HistogramObserver {
  private readonly levels: number;
  private readonly candidates: number;

  constructor(options: MseObserverOptions = {}) {
    super(options);
    this.levels = checkInteger('levels', options.levels ?? 256, 2, 1 << 16);
    this.candidates = checkInteger('candidates', options.candidates ?? 200, 1, 100_000);
  }

  protected computeRange(c: number): [number, number] {
    const h = this.hists[c]!;
    const folded = h.folded();
    const width = h.radius / folded.length;
    const absMax = Math.max(-this.mins[c]!, this.maxs[c]!);
    let best = absMax;
    let bestErr = Infinity;
    for (let j = 1; j <= this.candidates; j++) {
      const a = (absMax * j) / this.candidates;
      const step = (2 * a) / (this.levels - 1);
      let err = 0;
      for (let k = 0; k < folded.length; k++) {
        const m = folded[k]!;
        if (m === 0) continue;
        const centre = (k + 0.5) * width;
        err += centre > a ? m * (centre - a) * (centre - a) : (m * step * step) / 12;
      }
      if (err < bestErr) {
        bestErr = err;
        best = a;
      }
    }
    return [Math.max(-best, this.mins[c]!), Math.min(best, this.maxs[c]!)];
  }
}
