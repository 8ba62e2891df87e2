import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { LeptonError } from '@lepton/tensor-core';
import { ModelManifestSchema, decodeWireTensor, encodeWireTensor, type AnsweredBy, type ModelManifest, type WireFormat, type WireTensor } from '@lepton/contracts';
import { SILERO_VAD_V5_MANIFEST, createPredictor, manifestForVariant } from '@lepton/runtime';
import { sessionOptionsOf } from '@lepton/onnx';
import { manifestFromModel } from '@lepton/api';
import { BUNDLED_MODELS, bundledModelPath, ort, type BundledModelId } from '@lepton/node-platform';
import { call, fleetClient } from '../fleet/client';

export type InferTarget = 'server' | 'edge' | 'local';

export interface InferCommandOptions {
  on: InferTarget;
  server: string;
  edge: string;
  key?: string;
  format: WireFormat;
  /** Output names to return (default all). */
  outputs?: string[];
}

/** What `lepton infer` prints, whichever platform answered: the infer response less its timings. */
export interface InferOutcome {
  model: string;
  version: string;
  outputs: WireTensor[];
  answeredBy: AnsweredBy;
}

const LOCAL_MANIFESTS = { 'silero-vad-v5': SILERO_VAD_V5_MANIFEST } as const satisfies Record<BundledModelId, unknown>;

const isOnnxFile = (model: string): boolean => model.toLowerCase().endsWith('.onnx') || (existsSync(model) && statSync(model).isFile());

/**
 * MODEL is a registry id (`id` or `id@version`) for server and edge, which run their own registered models; with
 * `--on local` it is a bundled model id or an .onnx file, run in this process by @lepton/runtime's predictor on
 * onnxruntime-node (an .onnx file gets the generic manifest `lepton parity` uses: its graph inputs and outputs,
 * no pipelines; its session options those it records in lepton.session_options, else those its graph requires).
 */
export async function runInfer(model: string, inputs: WireTensor[], opts: InferCommandOptions): Promise<InferOutcome> {
  if (opts.on === 'local') return runLocal(model, inputs, opts);
  if (isOnnxFile(model)) {
    throw new LeptonError('BAD_REQUEST', `${model} is a file; --on ${opts.on} runs registered models by id (register it, or use --on local)`);
  }
  const [id, version] = model.split('@') as [string, string | undefined];
  const flags = { server: opts.on === 'server' ? opts.server : opts.edge, ...(opts.key ? { key: opts.key } : {}) };
  const res = await call(flags, () =>
    fleetClient(flags).infer.mutate({ model: id, ...(version ? { version } : {}), inputs, format: opts.format, ...(opts.outputs ? { outputs: opts.outputs } : {}) }),
  );
  return { model: res.model, version: res.version, outputs: res.outputs, answeredBy: res.answeredBy };
}

async function runLocal(model: string, inputs: WireTensor[], opts: InferCommandOptions): Promise<InferOutcome> {
  let manifest: ModelManifest;
  let bytes: Uint8Array;
  if (Object.prototype.hasOwnProperty.call(BUNDLED_MODELS, model)) {
    manifest = ModelManifestSchema.parse(LOCAL_MANIFESTS[model as BundledModelId]);
    bytes = new Uint8Array(await readFile(bundledModelPath(model as BundledModelId)));
  } else if (isOnnxFile(model)) {
    if (!existsSync(model)) throw new LeptonError('FILE_NOT_FOUND', `model file ${model} does not exist; expected an .onnx file or a model id`, { file: model });
    try {
      bytes = new Uint8Array(await readFile(model));
    } catch (err) {
      // A directory named *.onnx, or a file this user cannot read: name it, like every other command that reads a model.
      throw new LeptonError('FILE_NOT_FOUND', `cannot read model file ${model}: ${(err as Error).message}; expected an .onnx file`, { file: model });
    }
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    manifest = ModelManifestSchema.parse(manifestFromModel(bytes, { id: `file-${digest}`, version: digest, name: model }));
    // The options the file records (lepton.session_options, written by lepton quantize/convert/prune and the
    // server's variant builds), else what its graph requires: an int8 DequantizeLinear -> MatMul model runs at
    // 'basic' here as on every other platform.
    const own = sessionOptionsOf(bytes);
    if (own) manifest = manifestForVariant(manifest, { sessionOptions: own });
  } else {
    throw new LeptonError(
      'MODEL_NOT_FOUND',
      `model ${JSON.stringify(model)} is neither a bundled model (${Object.keys(BUNDLED_MODELS).join(', ')}) nor an .onnx file; --on local runs those (use --on server for registered models)`,
      { model },
    );
  }
  const predictor = await createPredictor({ manifest, model: bytes, ort });
  try {
    const result = await predictor.run(Object.fromEntries(inputs.map((w) => [w.name, decodeWireTensor(w)] as const)));
    const wanted = opts.outputs ?? manifest.outputs.map((o) => o.name);
    // As the server's infer: in the order asked, BAD_REQUEST naming an unknown one.
    const unknown = wanted.find((n) => !result[n]);
    if (unknown !== undefined) {
      throw new LeptonError('BAD_REQUEST', `'${unknown}' is not an output of model ${manifest.id}@${manifest.version}; outputs: ${Object.keys(result).join(', ')}`, { output: unknown });
    }
    const outputs = wanted.map((name) => encodeWireTensor(name, result[name]!, opts.format));
    return { model: manifest.id, version: manifest.version, outputs, answeredBy: 'local' };
  } finally {
    await predictor.release();
  }
}
