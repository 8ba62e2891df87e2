import { QUANT_LIMITS, checkQuantDType, roundHalfEven, type QuantDType } from './quant-dtype';
import { checkFinite, invalid } from './validate';

export interface RangeQuantOptions {
  dtype: QuantDType;
  /** Symmetric: range [-a, a] with a = max(|min|, |max|), zero point at the middle of the integer range. */
  symmetric?: boolean;
  /**
   * Use one bit less (int8 [-64, 64], uint8 [0, 127]), as onnxruntime's quantization tool does for CPUs whose
   * u8s8 dot products can overflow; 16- and 4-bit types have no reduced range.
   */
  reduceRange?: boolean;
}

export interface QuantParams {
  scale: number;
  zeroPoint: number;
  /** The integer range the parameters were computed for. */
  qmin: number;
  qmax: number;
}

/** The integer range used for parameters (see RangeQuantOptions). */
export function quantRange(dtype: QuantDType, symmetric = false, reduceRange = false): [number, number] {
  const [lo, hi] = QUANT_LIMITS[dtype];
  if (reduceRange) {
    if (dtype === 'int8') return [-64, 64];
    if (dtype === 'uint8') return [0, 127];
    invalid('reduceRange', `is true; only int8 and uint8 have a reduced range, got ${dtype}`);
  }
  // A symmetric signed range drops the most negative value so that +a and -a both fit.
  if (symmetric && lo < 0) return [lo + 1, hi];
  return [lo, hi];
}

/**
 * Scale and zero point for a float range, in float32 arithmetic. The range is widened to include 0 (so 0 is exact,
 * as zero padding needs). A degenerate range (all zeros, or a span whose scale underflows float32) gives scale 1,
 * never 0, NaN or Inf; a span that overflows float32 is taken in float64, so the scale stays finite and covers it.
 * Throws VALIDATION_FAILED for a non-finite, out-of-float32-range or inverted range.
 */
export function quantParamsFromRange(min: number, max: number, options: RangeQuantOptions): QuantParams {
  const dtype = checkQuantDType('dtype', options.dtype);
  checkFinite('min', min);
  checkFinite('max', max);
  if (min > max) invalid('min', `is ${min}, above max ${max}; expected min <= max`);
  const [qmin, qmax] = quantRange(dtype, options.symmetric ?? false, options.reduceRange ?? false);
  let lo = Math.fround(Math.min(min, 0));
  let hi = Math.fround(Math.max(max, 0));
  // A double beyond float32's range (1e39) would become Infinity here and, through the checks below, scale 1.
  if (!Number.isFinite(lo)) invalid('min', `is ${min}; expected a value within float32's range (+-3.4028234663852886e38)`);
  if (!Number.isFinite(hi)) invalid('max', `is ${max}; expected a value within float32's range (+-3.4028234663852886e38)`);
  if (options.symmetric) {
    const a = Math.max(-lo, hi);
    lo = -a;
    hi = a;
  }
  // The span of two large float32 values can overflow float32 ([-3e38, 3e38]); onnxruntime's tool then writes
  // scale Infinity and our degenerate rule would have written 1, both saturating everything. The span is exact in
  // float64, and span / (qmax - qmin) always fits float32 again.
  const span = Math.fround(hi - lo);
  let scale = Math.fround((span === Infinity ? hi - lo : span) / (qmax - qmin));
  // 2^-126 is float32's smallest normal: below it 1/scale overflows and x/scale loses all precision.
  const degenerate = !(scale >= 2 ** -126) || !Number.isFinite(scale);
  if (degenerate) scale = 1;
  let zeroPoint: number;
  if (options.symmetric) zeroPoint = roundHalfEven((qmin + qmax) / 2);
  else if (degenerate) zeroPoint = Math.max(qmin, Math.min(qmax, 0));
  else zeroPoint = roundHalfEven(Math.max(qmin, Math.min(qmax, Math.fround(qmin - Math.fround(lo / scale)))));
  return { scale, zeroPoint, qmin, qmax };
}

/** Per-channel parameters from per-channel ranges (e.g. a per-axis observer), ready for quantizeLinear. */
export function quantParamsFromRanges(
  ranges: readonly { min: number; max: number }[],
  options: RangeQuantOptions,
): { scale: Float32Array; zeroPoint: number[] } {
  const scale = new Float32Array(ranges.length);
  const zeroPoint = new Array<number>(ranges.length);
  ranges.forEach((r, i) => {
    const p = quantParamsFromRange(r.min, r.max, options);
    scale[i] = p.scale;
    zeroPoint[i] = p.zeroPoint;
  });
  return { scale, zeroPoint };
}
