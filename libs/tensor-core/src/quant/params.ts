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
 * never 0, NaN or Inf. Throws VALIDATION_FAILED for a non-finite or inverted range.
 */
export function quantParamsFromRange(min: number, max: number, options: RangeQuantOptions): QuantParams {
  const dtype = checkQuantDType('dtype', options.dtype);
  checkFinite('min', min);
  checkFinite('max', max);
  if (min > max) invalid('min', `is ${min}, above max ${max}; expected min <= max`);
  const [qmin, qmax] = quantRange(dtype, options.symmetric ?? false, options.reduceRange ?? false);
  let lo = Math.fround(Math.min(min, 0));
  let hi = Math.fround(Math.max(max, 0));
  if (options.symmetric) {
    const a = Math.max(-lo, hi);
    lo = -a;
    hi = a;
  }
  let scale = Math.fround(Math.fround(hi - lo) / (qmax - qmin));
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
