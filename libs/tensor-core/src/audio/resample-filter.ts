/**
 * Polyphase windowed-sinc filter design for rational resampling. For a ratio up/down (reduced), output k sits
 * at input time k * down / up = n0 + phase / up, and is the dot product of a fixed row of taps (one row per
 * phase) with the inputs n0 - half + 1 .. n0 + half. Rows are computed once per (from, to) pair and cached; for
 * ratios with very many phases (44101 -> 16000) they are interpolated on demand from a finely sampled kernel.
 * Either way a row depends only on its phase, so results never depend on how the input was chunked.
 */

/** Zero crossings of the sinc on each side, in units of the lower of the two sample periods. */
const ZERO_CROSSINGS = 16;
/** Cutoff as a fraction of the lower Nyquist frequency (-6 dB point); leaves a transition band below Nyquist. */
const ROLLOFF = 0.9;
/** Kaiser window shape: about 80 dB of stop-band attenuation. */
const KAISER_BETA = 8;
/** Above this many phases the table would be large; rows are then computed per output sample. */
const MAX_TABLE_PHASES = 4096;
/** Kernel samples per input sample in the interpolation table used beyond MAX_TABLE_PHASES. */
const PROTO_STEPS = 512;

export interface PolyphaseFilter {
  readonly up: number;
  readonly down: number;
  /** Taps per row (even); row p covers inputs n0 - half + 1 .. n0 + half with half = taps / 2. */
  readonly taps: number;
  /** Taps of phase p at [p * taps, (p + 1) * taps); undefined when rows are computed on demand. */
  readonly table: Float64Array | undefined;
  /** Fill `out` (length taps) with the row of phase p. */
  row(p: number, out: Float64Array): void;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for x <= 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const cache = new Map<string, PolyphaseFilter>();

/** The filter for resampling `fromRate` -> `toRate` (integer rates), built once and shared. */
export function polyphaseFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const key = `${fromRate}:${toRate}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  // Cutoff relative to the input rate's Nyquist; the window spans ZERO_CROSSINGS periods of the lower rate.
  const scale = Math.min(1, up / down);
  const cutoff = ROLLOFF * scale;
  const halfWidth = ZERO_CROSSINGS / scale; // in input samples
  const half = Math.ceil(halfWidth);
  const taps = 2 * half;
  const i0Beta = besselI0(KAISER_BETA);

  const kernel = (t: number): number => {
    const r = t / halfWidth;
    if (r <= -1 || r >= 1) return 0;
    const x = Math.PI * cutoff * t;
    const sinc = x === 0 ? 1 : Math.sin(x) / x;
    return sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta);
  };
  // For ratios with very many phases, rows come from a finely sampled copy of the (even) kernel by linear
  // interpolation: cheap per output, and still a pure function of the phase.
  let proto: Float64Array | undefined;
  if (up > MAX_TABLE_PHASES) {
    proto = new Float64Array(Math.ceil(halfWidth * PROTO_STEPS) + 2);
    for (let i = 0; i < proto.length; i++) proto[i] = kernel(i / PROTO_STEPS);
  }
  const sample = (t: number): number => {
    if (!proto) return kernel(t);
    const u = Math.abs(t) * PROTO_STEPS;
    const i = Math.floor(u);
    if (i + 1 >= proto.length) return 0;
    return proto[i]! + (u - i) * (proto[i + 1]! - proto[i]!);
  };

  const row = (p: number, out: Float64Array): void => {
    const frac = p / up;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      // Distance from the output instant to input n0 - half + 1 + j.
      const w = sample(frac + half - 1 - j);
      out[j] = w;
      sum += w;
    }
    // Unity gain at DC for every phase, so levels are kept whatever the phase.
    for (let j = 0; j < taps; j++) out[j] = out[j]! / sum;
  };

  let table: Float64Array | undefined;
  if (up <= MAX_TABLE_PHASES) {
    table = new Float64Array(up * taps);
    for (let p = 0; p < up; p++) row(p, table.subarray(p * taps, (p + 1) * taps));
  }
  const filter: PolyphaseFilter = { up, down, taps, table, row };
  cache.set(key, filter);
  return filter;
}
