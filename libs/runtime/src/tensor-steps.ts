import { LeptonError, affine, castTensor, permuteShape, sigmoid, softmax, transpose, type NumericDType, type Tensor } from '@lepton/tensor-core';
import type { ModelManifest, PipelineStep } from '@lepton/contracts';
import type { Feeds } from './feeds';

// The manifest's tensor steps, executed by the predictor on every platform with tensor-core's kernels (the same
// bytes everywhere): `affine`, `normalize`, `cast`, `transpose` on named inputs before validation against the
// model's input specs, `softmax` and `sigmoid` on named outputs after the run. Audio steps and `vad.segments` belong
// to detectSpeech (vad-pipeline.ts) and are not touched here. `topk` changes an output's shape and adds indices,
// which the manifest's outputs cannot describe: a manifest asking the predictor for it is refused at load.

type PreStep = Extract<PipelineStep, { op: 'affine' | 'normalize' | 'cast' | 'transpose' }>;
type PostStep = Extract<PipelineStep, { op: 'softmax' | 'sigmoid' }>;

export interface TensorSteps {
  /** Inputs that have preprocessing, with their steps in manifest order. */
  pre: Map<string, PreStep[]>;
  post: Map<string, PostStep[]>;
}

const PRE = new Set(['affine', 'normalize', 'cast', 'transpose']);
const POST = new Set(['softmax', 'sigmoid']);

/** Split and check the manifest's tensor steps once, at load (MANIFEST_INVALID naming the step). */
export function compileTensorSteps(manifest: ModelManifest): TensorSteps {
  const model = `${manifest.id}@${manifest.version}`;
  const inputs = new Set(manifest.inputs.map((s) => s.name));
  const outputs = new Set(manifest.outputs.map((s) => s.name));
  const steps: TensorSteps = { pre: new Map(), post: new Map() };
  manifest.preprocess.forEach((step, i) => {
    if (!PRE.has(step.op)) return;
    const s = step as PreStep;
    if (!inputs.has(s.input)) {
      throw new LeptonError('MANIFEST_INVALID', `manifest of ${model}: preprocess[${i}] ${s.op} names input '${s.input}', which is not an input; expected one of ${[...inputs].join(', ')}`);
    }
    steps.pre.set(s.input, [...(steps.pre.get(s.input) ?? []), s]);
  });
  manifest.postprocess.forEach((step, i) => {
    if (step.op === 'topk') {
      throw new LeptonError(
        'MANIFEST_INVALID',
        `manifest of ${model}: postprocess[${i}] topk changes output '${step.output}' to k values plus their indices, which its output spec cannot describe; the predictor runs softmax and sigmoid, run topK (@lepton/tensor-core) on the result`,
      );
    }
    if (!POST.has(step.op)) return;
    const s = step as PostStep;
    if (!outputs.has(s.output)) {
      throw new LeptonError('MANIFEST_INVALID', `manifest of ${model}: postprocess[${i}] ${s.op} names output '${s.output}', which is not an output; expected one of ${[...outputs].join(', ')}`);
    }
    steps.post.set(s.output, [...(steps.post.get(s.output) ?? []), s]);
  });
  return steps;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function float32Of(t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32') {
    throw new LeptonError('PIPELINE_INVALID', `${what} needs float32 data; got ${t.dtype} ${shapeText(t.shape)} (put a cast step to float32 before it)`);
  }
  return t.data as Float32Array;
}

/** (x - mean[c]) / std[c] in float32, c along `axis` (default 1 for rank >= 2, else 0), scalars broadcast. */
function normalizeTensor(t: Tensor, step: Extract<PreStep, { op: 'normalize' }>, what: string): Tensor {
  const x = float32Of(t, what);
  const rank = t.shape.length;
  const axis = step.axis === undefined ? (rank >= 2 ? 1 : 0) : step.axis < 0 ? step.axis + rank : step.axis;
  const mean = typeof step.mean === 'number' ? [step.mean] : step.mean;
  const std = typeof step.std === 'number' ? [step.std] : step.std;
  const perChannel = mean.length > 1 || std.length > 1;
  if (perChannel && (axis < 0 || axis >= rank)) {
    throw new LeptonError('PIPELINE_INVALID', `${what}: axis ${String(step.axis)} is outside a tensor of rank ${rank} ${shapeText(t.shape)}`);
  }
  const channels = perChannel ? t.shape[axis]! : 1;
  for (const [name, v] of [['mean', mean], ['std', std]] as const) {
    if (v.length !== 1 && v.length !== channels) {
      throw new LeptonError('PIPELINE_INVALID', `${what}: ${name} has ${v.length} values; expected 1 or ${channels} (dimension ${axis} of ${shapeText(t.shape)})`);
    }
    for (const [i, value] of v.entries()) {
      const f = Math.fround(value);
      if (!Number.isFinite(f) || (name === 'std' && f === 0)) {
        throw new LeptonError('PIPELINE_INVALID', `${what}: ${name}[${i}] is ${value}; expected a finite${name === 'std' ? ' non-zero' : ''} number within float32's range`);
      }
    }
  }
  const inner = perChannel ? t.shape.slice(axis + 1).reduce((a, b) => a * b, 1) : x.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    const m = Math.fround(mean[mean.length === 1 ? 0 : c]!);
    const s = Math.fround(std[std.length === 1 ? 0 : c]!);
    out[i] = Math.fround(x[i]! - m) / s;
  }
  return { dtype: 'float32', shape: [...t.shape], data: out };
}

function applyPre(t: Tensor, step: PreStep, what: string): Tensor {
  switch (step.op) {
    case 'affine': {
      const data = affine(float32Of(t, what), t.shape, { c: step.c, d: step.d, e: step.e, ...(step.axis !== undefined ? { axis: step.axis } : {}) });
      return { dtype: 'float32', shape: [...t.shape], data };
    }
    case 'normalize':
      return normalizeTensor(t, step, what);
    case 'cast':
      if (t.dtype === step.to) return t;
      if (t.dtype === 'string' || step.to === 'string') return badCast(t, step, what);
      return castTensor(t, step.to as NumericDType);
    case 'transpose': {
      if (step.perm.length !== t.shape.length) {
        throw new LeptonError('PIPELINE_INVALID', `${what}: perm [${step.perm.join(', ')}] has ${step.perm.length} axes; the tensor given is ${t.dtype} ${shapeText(t.shape)} (rank ${t.shape.length})`);
      }
      const data = transpose(t.data as Float32Array, t.shape, step.perm);
      return { dtype: t.dtype, shape: permuteShape(t.shape, step.perm), data } as Tensor;
    }
  }
}

function badCast(t: Tensor, step: Extract<PreStep, { op: 'cast' }>, what: string): never {
  throw new LeptonError('PIPELINE_INVALID', `${what}: cannot cast ${t.dtype} to ${step.to}; cast steps convert between numeric dtypes`);
}

/** Run the preprocess steps of each fed input; inputs without steps pass through untouched. */
export function preprocessFeeds(steps: TensorSteps, feeds: Feeds, model: string): Feeds {
  if (steps.pre.size === 0) return feeds;
  const out: Feeds = { ...feeds };
  for (const [name, list] of steps.pre) {
    let t = out[name];
    if (t === undefined) continue; // validateFeeds names the missing input
    list.forEach((step, i) => {
      t = applyPre(t!, step, `model ${model}: preprocess ${step.op} (step ${i + 1} of ${list.length}) of input '${name}'`);
    });
    out[name] = t;
  }
  return out;
}

/** Run the postprocess steps on the outputs they name. */
export function postprocessOutputs(steps: TensorSteps, outputs: Feeds, model: string): Feeds {
  if (steps.post.size === 0) return outputs;
  const out: Feeds = { ...outputs };
  for (const [name, list] of steps.post) {
    let t = out[name];
    if (t === undefined) continue;
    for (const step of list) {
      const what = `model ${model}: postprocess ${step.op} of output '${name}'`;
      const x = float32Of(t, what);
      const data = step.op === 'softmax' ? softmax(x, t.shape, step.axis) : sigmoid(x);
      t = { dtype: 'float32', shape: [...t.shape], data };
    }
    out[name] = t;
  }
  return out;
}

/**
 * A validation error for an input that went through preprocessing says so: the shape it names is the shape after
 * the steps, not the one the caller sent.
 */
export function explainAfterSteps(err: unknown, steps: TensorSteps, given: Feeds): unknown {
  if (!(err instanceof LeptonError) || steps.pre.size === 0) return err;
  const input = (err.details as { input?: unknown } | undefined)?.input;
  const name = typeof input === 'string' ? input : [...steps.pre.keys()].find((n) => err.message.includes(`'${n}'`));
  if (name === undefined || !steps.pre.has(name) || given[name] === undefined) return err;
  const g = given[name]!;
  const ops = steps.pre.get(name)!.map((s) => (s.op === 'transpose' ? `transpose [${s.perm.join(', ')}]` : s.op === 'cast' ? `cast to ${s.to}` : s.op)).join(' -> ');
  return new LeptonError(err.code, `${err.message} (after the manifest's preprocess ${ops} on input '${name}', which was given as ${g.dtype} ${shapeText(g.shape)})`, err.details);
}

/**
 * The feeds a model gets from these caller feeds under its manifest's preprocess steps (what Predictor.prepare
 * computes, without a session): for a digest taken beside a path that runs the predictor elsewhere.
 */
export function preprocessForManifest(manifest: ModelManifest, feeds: Feeds): Feeds {
  return preprocessFeeds(compileTensorSteps(manifest), feeds, `${manifest.id}@${manifest.version}`);
}
