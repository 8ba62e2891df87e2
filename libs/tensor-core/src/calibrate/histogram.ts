/**
 * A histogram over [-R, R] with an even number of equal bins, R growing by doubling as larger values arrive.
 * Doubling keeps old bin edges on new ones (two old bins merge exactly into one), so the result does not depend
 * on how the data was split into batches except through R's starting value.
 */
export class SymmetricHistogram {
  readonly bins: Float64Array;
  radius = 0;

  constructor(readonly size: number) {
    this.bins = new Float64Array(size);
  }

  /** Add the finite values of x[start, start + n). */
  add(x: Float32Array, start: number, n: number): void {
    const end = start + n;
    let absMax = 0;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      if (v - v === 0 && Math.abs(v) > absMax) absMax = Math.abs(v);
    }
    // While R is 0 (only zeros so far) every value lands in the first positive bin, [0, R * 2 / size).
    if (this.radius === 0 && absMax > 0) this.radius = absMax;
    while (absMax > this.radius) this.grow();
    const size = this.size;
    const half = size / 2;
    const r = this.radius;
    const perUnit = r > 0 ? half / r : 0;
    const bins = this.bins;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      if (v - v !== 0) continue;
      let k = Math.floor(v * perUnit) + half;
      if (k >= size) k = size - 1;
      else if (k < 0) k = 0;
      bins[k]! += 1;
    }
  }

  private grow(): void {
    const size = this.size;
    const quarter = size / 4;
    const old = Float64Array.from(this.bins);
    this.bins.fill(0);
    for (let j = 0; j < size; j++) this.bins[quarter + (j >> 1)]! += old[j]!;
    this.radius *= 2;
  }

  /** Histogram of |x|: size / 2 bins over [0, R]. */
  folded(): Float64Array {
    const half = this.size / 2;
    const out = new Float64Array(half);
    for (let k = 0; k < half; k++) out[k] = this.bins[half + k]! + this.bins[half - 1 - k]!;
    return out;
  }

  total(): number {
    let t = 0;
    for (let i = 0; i < this.size; i++) t += this.bins[i]!;
    return t;
  }

  /** Left edge of bin k. */
  edge(k: number): number {
    return -this.radius + (k * 2 * this.radius) / this.size;
  }
}
