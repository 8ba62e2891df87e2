import {
  argmaxAgreement,
  bfloat16ToFloat32Array,
  float16ToFloat32Array,
  maxUlpF16,
  parity,
  type DType,
  type Tensor,
} from '@lepton/tensor-core';
import { decodeWireTensor, type WireTensor } from '@lepton/contracts';
import { ParityRunSchema, type OutputComparison, type ParityRun, type ParityPlatform, type ParityReport, type ParityRunInput, type Tolerance } from './parity-schemas';

type ParityVariant = NonNullable<ParityReport['variant']>;

type Precision = Tolerance['precision'];

/**
 * Tolerance per output dtype and model precision. fp32 kernels on different runtimes (native vs WASM, other
 * instruction sets) differ by summation order and fused multiply-adds: a few float32 ulps, so rtol 1e-4 and
 * atol 1e-5 (per-chunk Silero probabilities measured within 1e-5). float16 outputs carry ~3 decimal digits;
 * fp16 and int8 variants compound rounding through every layer, so their bounds are the quantization's scale.
 * Integers, bool and strings must match exactly.
 */
const FLOAT_TOLERANCE: Record<Precision, { rtol: number; atol: number }> = {
  fp32: { rtol: 1e-4, atol: 1e-5 },
  fp16: { rtol: 1e-2, atol: 1e-3 },
  int8: { rtol: 5e-2, atol: 1e-2 },
  uint8: { rtol: 5e-2, atol: 1e-2 },
  int4: { rtol: 1e-1, atol: 5e-2 },
};
const FLOAT16_FLOOR = { rtol: 2e-3, atol: 1e-3 };
const FLOATS: ReadonlySet<DType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

export function toleranceFor(dtype: DType, precision: Precision): Tolerance {
  if (!FLOATS.has(dtype)) return { dtype, precision, rtol: 0, atol: 0, rule: 'exact' };
  const base = FLOAT_TOLERANCE[precision];
  const floor = dtype === 'float16' || dtype === 'bfloat16' ? FLOAT16_FLOOR : { rtol: 0, atol: 0 };
  return { dtype, precision, rtol: Math.max(base.rtol, floor.rtol), atol: Math.max(base.atol, floor.atol), rule: 'allclose' };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function asFloat32(t: Tensor): Float32Array {
  if (t.dtype === 'float16') return float16ToFloat32Array(t.data as Uint16Array);
  if (t.dtype === 'bfloat16') return bfloat16ToFloat32Array(t.data as Uint16Array);
  if (t.dtype === 'string') return new Float32Array(t.data.length);
  return Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Compare one platform's output with the reference platform's under a tolerance. */
export function compareOutput(platform: ParityPlatform, actual: Tensor | undefined, reference: Tensor, tol: Tolerance): OutputComparison {
  const empty = { platform, count: 0, maxAbs: null, maxRel: null, maxUlp: null, cosine: null, sqnrDb: null, mismatches: 0 };
  if (!actual) return { ...empty, pass: false, reason: 'output missing' };
  if (actual.dtype !== reference.dtype) return { ...empty, pass: false, reason: `dtype ${actual.dtype}; reference has ${reference.dtype}` };
  if (actual.shape.join(',') !== reference.shape.join(',')) {
    return { ...empty, pass: false, reason: `shape [${actual.shape.join(', ')}]; reference has [${reference.shape.join(', ')}]` };
  }
  let mismatches = 0;
  if (tol.rule === 'exact') {
    const a = actual.data as ArrayLike<unknown>;
    const b = reference.data as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatches++;
  } else {
    const a = actual.dtype === 'float64' ? (actual.data as Float64Array) : asFloat32(actual);
    const b = reference.dtype === 'float64' ? (reference.data as Float64Array) : asFloat32(reference);
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      const ok = Number.isNaN(x) || Number.isNaN(y) ? Number.isNaN(x) && Number.isNaN(y) : x === y || Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y);
      if (!ok) mismatches++;
    }
  }
  const a = asFloat32(actual);
  const b = asFloat32(reference);
  const m = parity(a, b);
  const maxUlp = actual.dtype === 'float16' ? maxUlpF16(actual.data as Uint16Array, reference.data as Uint16Array) : m.maxUlp;
  let argmax: OutputComparison['argmax'];
  const classes = reference.shape[reference.shape.length - 1] ?? 0;
  if (FLOATS.has(reference.dtype) && classes >= 2 && b.length > 0) {
    let peak = 0;
    // Finite values only: a masked logit (-Infinity) would make the margin infinite and every top-1 disagreement a
    // "near tie".
    for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i]!) && Math.abs(b[i]!) > peak) peak = Math.abs(b[i]!);
    const agreement = argmaxAgreement(a, b, classes, tol.atol + tol.rtol * peak);
    argmax = { rows: agreement.rows, classes, agree: agreement.agree, nearTies: agreement.nearTies, hardDisagreements: agreement.hardDisagreements };
  }
  const reasons: string[] = [];
  if (mismatches > 0) {
    reasons.push(tol.rule === 'exact' ? `${mismatches} of ${a.length} values differ` : `${mismatches} of ${a.length} values outside rtol ${tol.rtol} / atol ${tol.atol}`);
  }
  if (argmax && argmax.hardDisagreements.length > 0) reasons.push(`top-1 differs in rows ${argmax.hardDisagreements.slice(0, 10).join(', ')}`);
  if (m.nonFiniteMismatches > 0) reasons.push(`${m.nonFiniteMismatches} NaN/Infinity positions differ`);
  return {
    platform,
    pass: reasons.length === 0,
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
    count: m.count,
    maxAbs: finite(m.maxAbs),
    maxRel: finite(m.maxRel),
    maxUlp: finite(maxUlp),
    cosine: finite(m.cosine),
    sqnrDb: finite(m.sqnrDb),
    mismatches,
    ...(argmax ? { argmax } : {}),
  };
}

export interface BuildReportInput {
  model: string;
  version: string;
  /** The tolerances' precision when no variant is given (a variant's own precision wins). */
  precision: Precision;
  runs: ParityRunInput[];
  reference?: ParityPlatform;
  /** The variant every platform was asked to run: each run's artifact digest must be its sha256. */
  variant?: ParityVariant;
  /** The caller named the variant: a platform that does not report its artifact fails (default: it is listed). */
  variantNamed?: boolean;
  /** The fp32 model's outputs over the same feeds, to report each platform's difference from it. */
  fp32?: { sha256: string; outputs: WireTensor[] };
}

/**
 * The parity report: every platform's outputs against the reference platform's, per output, with the
 * tolerance each verdict used, and whether every platform fed onnxruntime the same preprocessed bytes.
 */
export function buildParityReport(input: BuildReportInput): ParityReport {
  const parsed = input.runs.map((r) => ParityRunSchema.parse(r));
  // The artifact check sees every platform that answered, the ones on other bytes included (their digests show).
  const artifacts = artifactCheck(
    parsed.filter((r) => r.ok),
    input.variant,
    input.variantNamed ?? false,
  );
  const runs = input.variant ? parsed.map((r) => refuseOtherArtifact(r, input.variant!, input)) : parsed;
  const ran = runs.filter((r) => r.ok);
  const ref = ran.find((r) => r.platform === input.reference) ?? ran[0];
  const decode = (ws: WireTensor[] | undefined) =>
    Object.fromEntries((ws ?? []).map((w) => [w.name, decodeWireTensor(w, { maxBytes: 1 << 30 })] as const));
  const refOutputs = decode(ref?.outputs);
  const precision = input.variant?.precision ?? input.precision;
  const tolerances = new Map<string, Tolerance>();
  const outputs = Object.entries(refOutputs).map(([name, t]) => {
    const tol = toleranceFor(t.dtype, precision);
    tolerances.set(`${t.dtype}`, tol);
    const comparisons = ran
      .filter((r) => r !== ref)
      .map((r) => compareOutput(r.platform, decode(r.outputs.filter((o) => o.name === name))[name], t, tol));
    return { name, dtype: t.dtype, shape: [...t.shape], comparisons };
  });
  const digests: Record<string, string> = {};
  const unreported: ParityPlatform[] = [];
  for (const r of ran) {
    if (r.feedsSha256) digests[r.platform] = r.feedsSha256;
    else unreported.push(r.platform);
  }
  const identical = new Set(Object.values(digests)).size <= 1;
  const failedRuns = runs.some((r) => !r.ok);
  const fp32Reference = input.fp32 && input.variant?.precision !== 'fp32' ? fp32Differences(ran, decode(input.fp32.outputs), input.fp32.sha256, precision) : undefined;
  return {
    model: input.model,
    version: input.version,
    precision,
    ...(input.variant ? { variant: input.variant } : {}),
    reference: ref?.platform ?? runs[0]?.platform ?? 'server',
    tolerances: [...tolerances.values()],
    platforms: runs.map(({ outputs: _outputs, ...rest }) => rest),
    preprocessing: { identical, digests, unreported },
    artifacts,
    outputs,
    ...(fp32Reference ? { fp32Reference } : {}),
    pass: !failedRuns && ran.length > 0 && identical && artifacts.identical && outputs.every((o) => o.comparisons.every((c) => c.pass)),
  };
}

const PLATFORM_NAMES: Record<ParityPlatform, string> = {
  server: 'the server',
  edge: 'the edge agent',
  local: 'the local process',
  browser: 'the browser',
  'browser-webgpu': "the browser's WebGPU backend",
};

/**
 * A platform that ran another artifact than the requested variant (an edge agent runs whatever the fleet
 * deployed to it) answered a different question: its outputs are not judged against the others (a numerical
 * FAIL would blame the runtime for what is a deployment), and the run is not ok, saying what it ran and what to do.
 * VARIANT_MISMATCH: the comparison asked for cannot be made as the platforms stand.
 */
function refuseOtherArtifact(r: ParityRun, variant: ParityVariant, report: { model: string; version: string }): ParityRun {
  if (!r.ok || r.artifactSha256 === undefined || r.artifactSha256 === variant.sha256) return r;
  const ran = `${r.variant ?? 'an unlisted artifact'} (sha256 ${r.artifactSha256.slice(0, 12)})`;
  const wanted = `${variant.id} (sha256 ${variant.sha256.slice(0, 12)})`;
  const fix =
    r.platform === 'edge'
      ? `deploy that variant to the device (lepton deployments create ${report.model} ${report.version} --device ID --variant ${variant.precision}) or leave edge out of --platforms`
      : `run ${r.platform} on ${variant.id} or leave it out of --platforms`;
  return {
    ...r,
    ok: false,
    outputs: [],
    error: { code: 'VARIANT_MISMATCH', message: `${PLATFORM_NAMES[r.platform]} runs ${ran}, not the requested ${wanted}; ${fix}; its outputs were not compared` },
  };
}

/**
 * Did every platform run the same model bytes, the variant's? With a variant named, a platform that does not
 * say what it ran fails the check too: an agent that forwarded to the server may have run another precision.
 */
function artifactCheck(ran: ReturnType<typeof ParityRunSchema.parse>[], variant: ParityVariant | undefined, named: boolean): ParityReport['artifacts'] {
  const digests: Record<string, string> = {};
  const unreported: ParityPlatform[] = [];
  for (const r of ran) {
    if (r.artifactSha256) digests[r.platform] = r.artifactSha256;
    else unreported.push(r.platform);
  }
  const seen = new Set(Object.values(digests));
  const identical = variant ? (!named || unreported.length === 0) && [...seen].every((d) => d === variant.sha256) : seen.size <= 1;
  return { identical, digests, unreported };
}

/** Each platform against the fp32 model's outputs, under the variant's tolerance (informational). */
function fp32Differences(ran: ReturnType<typeof ParityRunSchema.parse>[], fp32: Record<string, Tensor>, sha256: string, precision: Precision): NonNullable<ParityReport['fp32Reference']> {
  const outputs = Object.entries(fp32).map(([name, t]) => {
    const tol = toleranceFor(t.dtype, precision);
    const comparisons = ran.map((r) => {
      const w = r.outputs.find((o) => o.name === name);
      return compareOutput(r.platform, w ? decodeWireTensor(w, { maxBytes: 1 << 30 }) : undefined, t, tol);
    });
    return { name, comparisons };
  });
  return { sha256, outputs };
}
