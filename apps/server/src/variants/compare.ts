import { cpus } from 'node:os';
import { ortNode } from '@lepton/node-platform';
import { vadPipeline, variantSessionOptions } from '@lepton/runtime';
import { AccuracyAccumulator, type AccuracyReport, type OutputSpec } from '@lepton/onnx';
import type { ModelManifest, SessionOptions, VariantSessionOptions } from '@lepton/contracts';
import { constantTensor, stateInputs, zeros, type EvalData } from './eval-data';

type Session = Awaited<ReturnType<typeof ortNode.InferenceSession.create>>;
type OrtTensor = InstanceType<typeof ortNode.Tensor>;

const COMPARABLE = new Set(['float32', 'float16', 'float64', 'int64', 'int32', 'int8', 'uint8']);

/**
 * How each compared output turns into decisions: the VAD output at its speech threshold, an output whose last
 * dim is a class count by argmax, any other output as one score per value at 0.5. State outputs are not compared
 * (they feed the next run).
 */
export function outputSpecs(manifest: ModelManifest): OutputSpec[] {
  let vadOutput: { name: string; threshold: number } | undefined;
  try {
    const p = vadPipeline(manifest);
    vadOutput = { name: p.output, threshold: p.defaults.threshold };
  } catch {
    vadOutput = undefined;
  }
  const state = new Set(manifest.state.map((s) => s.output));
  return manifest.outputs
    .filter((o) => !state.has(o.name) && COMPARABLE.has(o.dtype))
    .map((o): OutputSpec => {
      if (o.name === vadOutput?.name) return { name: o.name, decision: { threshold: vadOutput.threshold } };
      const last = o.shape[o.shape.length - 1];
      return typeof last === 'number' && last > 1 ? { name: o.name, decision: 'argmax', classes: last } : { name: o.name, decision: { threshold: 0.5 } };
    });
}

function ortOptions(s: SessionOptions) {
  return {
    graphOptimizationLevel: s.graphOptimizationLevel,
    intraOpNumThreads: s.intraOpNumThreads,
    interOpNumThreads: s.interOpNumThreads,
    executionMode: s.executionMode,
  } as const;
}

function asFloat32(t: OrtTensor | undefined): Float32Array | undefined {
  const d = t?.data;
  if (d instanceof Float32Array) return d;
  if (d instanceof BigInt64Array) return Float32Array.from(d, (v) => Number(v));
  if (ArrayBuffer.isView(d) && !(d instanceof DataView)) return Float32Array.from(d as unknown as ArrayLike<number>);
  return undefined;
}

/**
 * Run float32 and the variant side by side on onnxruntime-node over the same inputs, each carrying its own
 * streaming state (as a device would), alternating runs so both see the same machine state. One warm-up run
 * each is not timed. `onStep` gets the fraction done; it may throw to stop (the sessions are released first).
 */
export async function compareWithReference(
  reference: Uint8Array,
  variant: Uint8Array,
  manifest: ModelManifest,
  data: EvalData,
  variantOptions: VariantSessionOptions | undefined,
  onStep: (done: number) => void,
): Promise<AccuracyReport> {
  // float32 as the manifest says; the variant as it will run on every platform (its recorded options merged).
  const ref = await ortNode.InferenceSession.create(reference, ortOptions(manifest.sessionOptions));
  const cand = await ortNode.InferenceSession.create(variant, ortOptions(variantSessionOptions(manifest, { sessionOptions: variantOptions })));
  try {
    const specs = outputSpecs(manifest).filter((o) => ref.outputNames.includes(o.name));
    const acc = new AccuracyAccumulator({ outputs: specs });
    const constants = Object.fromEntries(manifest.constants.map((c) => [c.input, constantTensor(c)]));
    const stateSpecs = manifest.inputs.filter((i) => stateInputs(manifest).has(i.name));
    const fresh = () => Object.fromEntries(stateSpecs.map((s) => [s.name, zeros(s)]));
    const run = async (session: Session, feeds: Record<string, OrtTensor>) => (await session.run(feeds)) as Record<string, OrtTensor>;
    const first = data.steps[0];
    if (first) {
      await run(ref, { ...first.feeds, ...constants, ...fresh() });
      await run(cand, { ...first.feeds, ...constants, ...fresh() });
    }
    let refState: Record<string, OrtTensor> = fresh();
    let candState: Record<string, OrtTensor> = fresh();
    let refMs = 0;
    let candMs = 0;
    for (let i = 0; i < data.steps.length; i++) {
      const step = data.steps[i]!;
      if (step.reset) {
        refState = fresh();
        candState = fresh();
      }
      const t0 = performance.now();
      const a = await run(ref, { ...step.feeds, ...constants, ...refState });
      const t1 = performance.now();
      const b = await run(cand, { ...step.feeds, ...constants, ...candState });
      const t2 = performance.now();
      refMs += t1 - t0;
      candMs += t2 - t1;
      const pick = (out: Record<string, OrtTensor>) => Object.fromEntries(specs.map((s) => [s.name, asFloat32(out[s.name]) ?? new Float32Array(0)]));
      acc.add(pick(a), pick(b));
      refState = Object.fromEntries(manifest.state.map((p) => [p.input, a[p.output]!]));
      candState = Object.fromEntries(manifest.state.map((p) => [p.input, b[p.output]!]));
      onStep((i + 1) / data.steps.length);
    }
    const runs = data.steps.length;
    return acc.finish('variant', { bytes: variant.length, referenceBytes: reference.length }, {
      latency: runs > 0 ? { runs, meanMs: candMs / runs, referenceMeanMs: refMs / runs, ratio: refMs > 0 ? candMs / refMs : 0 } : null,
      machine: `onnxruntime-node ${ortNode.env.versions.common}, ${cpus()[0]?.model ?? 'unknown CPU'}`,
    });
  } finally {
    await ref.release();
    await cand.release();
  }
}
