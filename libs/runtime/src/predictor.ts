import { LeptonError, allocate } from '@lepton/tensor-core';
import { ModelManifestSchema, decodeWireTensor, type ModelManifest, type ModelManifestInput } from '@lepton/contracts';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { checkTensor, exactFeeds, resolveShape, validateFeeds, type Feeds } from './feeds';
import { toOrtSessionOptions, type OrtModule, type OrtSession } from './ort';
import { fromOrtTensor, toOrtTensor } from './ort-tensors';
import { compileTensorSteps, explainAfterSteps, postprocessOutputs, preprocessFeeds } from './tensor-steps';

export type { Feeds } from './feeds';

/** One streaming conversation with a stateful model: state outputs of call n feed state inputs of call n + 1. */
export interface PredictorStream {
  /** Run one step. Steps run one after another even when called without awaiting the previous one. */
  step(feeds: Feeds): Promise<Feeds>;
  /** Forget the carried state: the next step starts from zeros again. */
  reset(): void;
}

export interface Predictor {
  readonly manifest: ModelManifest;
  /**
   * Validate feeds against the manifest (names, dtypes, shapes within maxShape: TENSOR_* / INPUT_* errors),
   * add constant feeds, run, return all outputs as Lepton tensors (float16 as Uint16Array bits, int64 as
   * BigInt64Array). State inputs are ordinary inputs here; openStream() carries them for you.
   */
  run(feeds: Feeds): Promise<Feeds>;
  /**
   * What run() does before the session: the manifest's preprocess steps (affine, normalize, cast, transpose),
   * then validation against the model's input specs. Returns the feeds the model gets (the parity digest hashes
   * these). Throws as run() would.
   */
  prepare(feeds: Feeds): Feeds;
  /** run() on feeds prepare() returned (the batcher validates each request, then runs the batch). */
  runPrepared(feeds: Feeds): Promise<Feeds>;
  openStream(): PredictorStream;
  release(): Promise<void>;
}

export interface CreatePredictorOptions {
  /** Parsed or raw manifest; it is validated (MANIFEST_INVALID) and defaults are filled in. */
  manifest: ModelManifest | ModelManifestInput;
  model: Uint8Array;
  ort: OrtModule;
  /** Platform choice (e.g. ['wasm'] in a browser); not part of the manifest because it must not change numerics. */
  executionProviders?: InferenceSession.SessionOptions['executionProviders'];
}

/**
 * Create a predictor: the only place in Lepton that talks to an InferenceSession. Errors: MANIFEST_INVALID
 * (manifest does not parse, or names inputs/outputs the model lacks), MODEL_LOAD_FAILED naming the model.
 */
export async function createPredictor(opts: CreatePredictorOptions): Promise<Predictor> {
  const parsed = ModelManifestSchema.safeParse(opts.manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LeptonError('MANIFEST_INVALID', `manifest ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      issues: parsed.error.issues,
    });
  }
  const manifest = parsed.data;
  const model = `${manifest.id}@${manifest.version}`;
  const constants = constantFeeds(manifest);
  const steps = compileTensorSteps(manifest);

  let session: OrtSession;
  try {
    session = await opts.ort.InferenceSession.create(opts.model, toOrtSessionOptions(manifest.sessionOptions, opts.executionProviders));
  } catch (e) {
    throw new LeptonError('MODEL_LOAD_FAILED', `model ${model} (${opts.model.length} bytes) failed to load: ${messageOf(e)}`, {
      model,
    });
  }
  const missing = [
    ...manifest.inputs.filter((s) => !session.inputNames.includes(s.name)).map((s) => `input '${s.name}'`),
    ...manifest.outputs.filter((s) => !session.outputNames.includes(s.name)).map((s) => `output '${s.name}'`),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new LeptonError(
      'MANIFEST_INVALID',
      `manifest of ${model} declares ${missing.join(', ')}, but the model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]`,
    );
  }

  let released = false;
  const execute = async (feeds: Feeds): Promise<Feeds> => {
    if (released) throw new LeptonError('INFERENCE_FAILED', `model ${model}: the predictor was released`);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(constants)) ortFeeds[name] = toOrtTensor(opts.ort, name, t);
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(opts.ort, name, t);
    let results: InferenceSession.ReturnType;
    try {
      results = await session.run(ortFeeds);
    } catch (e) {
      throw new LeptonError('INFERENCE_FAILED', `model ${model} failed to run: ${messageOf(e)}`, { model });
    }
    const outputs: Feeds = {};
    for (const [name, o] of Object.entries(results)) outputs[name] = fromOrtTensor(name, o);
    return postprocessOutputs(steps, outputs, model);
  };
  const prepare = (given: Feeds, carried?: ReadonlySet<string>) => {
    const exact = exactFeeds(given);
    const feeds = preprocessFeeds(steps, exact, model);
    try {
      return { feeds, bindings: validateFeeds(manifest, feeds, carried) };
    } catch (err) {
      throw explainAfterSteps(err, steps, exact);
    }
  };

  return {
    manifest,
    async run(given) {
      return execute(prepare(given).feeds);
    },
    prepare: (given) => prepare(given).feeds,
    runPrepared: (feeds) => execute(feeds),
    openStream() {
      return openStream(manifest, execute, prepare);
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}

function openStream(
  manifest: ModelManifest,
  execute: (feeds: Feeds) => Promise<Feeds>,
  prepare: (feeds: Feeds, carried: ReadonlySet<string>) => { feeds: Feeds; bindings: Map<string, number> },
): PredictorStream {
  const model = `${manifest.id}@${manifest.version}`;
  const carried = new Set(manifest.state.map((p) => p.input));
  const specs = new Map(manifest.inputs.map((s) => [s.name, s]));
  let state: Feeds | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const doStep = async (given: Feeds): Promise<Feeds> => {
    const { feeds, bindings } = prepare(given, carried);
    if (state === undefined) {
      state = {};
      for (const name of carried) {
        const spec = specs.get(name)!;
        const shape = resolveShape(spec, bindings, model);
        state[name] = { dtype: spec.dtype, shape, data: allocate(spec.dtype, shape.reduce((a, b) => a * b, 1)) };
      }
    }
    const outputs = await execute({ ...feeds, ...state });
    const next: Feeds = {};
    for (const pair of manifest.state) {
      const out = outputs[pair.output];
      if (out === undefined) {
        throw new LeptonError('INFERENCE_FAILED', `model ${model} did not return state output '${pair.output}'`);
      }
      next[pair.input] = out;
    }
    state = next;
    return outputs;
  };

  return {
    step(feeds) {
      const result = queue.then(() => doStep(feeds));
      queue = result.catch(() => undefined);
      return result;
    },
    reset() {
      state = undefined;
    },
  };
}

/** Constant feeds as tensors, checked against their input specs once, at load. */
function constantFeeds(manifest: ModelManifest): Feeds {
  const out: Feeds = {};
  for (const c of manifest.constants) {
    const spec = manifest.inputs.find((s) => s.name === c.input);
    if (spec === undefined) {
      throw new LeptonError('MANIFEST_INVALID', `manifest ${manifest.id}: constant '${c.input}' is not a declared input`);
    }
    try {
      const t = decodeWireTensor({ name: c.input, dtype: c.dtype, shape: c.shape, data: c.value });
      checkTensor(spec, t, new Map());
      out[c.input] = t;
    } catch (e) {
      throw new LeptonError('MANIFEST_INVALID', `manifest ${manifest.id}: constant '${c.input}': ${messageOf(e)}`);
    }
  }
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
