import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LeptonError } from '@lepton/tensor-core';
import { convertFloat16, decodeModel, defaultOpset, encodeModel, quantizeDynamic, quantizeWeightsInt8, stampSessionOptions, type Fp16Report, type Int8DynamicReport, type Int8WeightReport } from '@lepton/onnx';
import type { ModelManifest, Variant, VariantReport, VariantSessionOptions } from '@lepton/contracts';
import { PRECISION_OF, edgePass, type BuildPass, type PlannedPass } from './profiles';
import { compareWithReference } from './compare';
import { evalData } from './eval-data';

export interface BuildRequest {
  /** The float32 model file in the artifact store, and its digest (checked before use). */
  modelPath: string;
  sha256: string;
  manifest: ModelManifest;
  pass: PlannedPass;
  audioDir: string;
}

export interface BuildProgress {
  progress: number;
  stage: string;
  /** Set once the pass is known (int8-auto resolves to int8-weight or int8-dynamic). */
  pass?: BuildPass;
}

export interface BuildResult {
  bytes: Uint8Array;
  pass: BuildPass;
  precision: Variant['precision'];
  opset: number;
  /** Recorded on the variant: the options its artifact runs with everywhere, over the manifest's. */
  sessionOptions?: VariantSessionOptions;
  report: VariantReport;
}

/** Thrown when the host asked the build to stop (shutdown); the job goes back to the queue. */
export class BuildCancelled extends Error {
  constructor() {
    super('variant build cancelled');
  }
}

/**
 * Build one variant from the float32 model and compare it with float32 (see compare.ts). Runs in the variant
 * worker thread; every failure is a LeptonError whose code the job records.
 */
export async function buildVariant(req: BuildRequest, onProgress: (p: BuildProgress) => void, shouldStop: () => boolean = () => false): Promise<BuildResult> {
  const checkpoint = () => {
    if (shouldStop()) throw new BuildCancelled();
  };
  onProgress({ progress: 0.02, stage: 'loading' });
  let reference: Uint8Array;
  try {
    reference = new Uint8Array(readFileSync(req.modelPath));
  } catch (err) {
    throw new LeptonError('ARTIFACT_NOT_FOUND', `float32 model file ${req.modelPath} cannot be read: ${(err as Error).message}`);
  }
  const actual = createHash('sha256').update(reference).digest('hex');
  if (actual !== req.sha256) {
    throw new LeptonError('ARTIFACT_DIGEST_MISMATCH', `float32 model file ${req.modelPath} has sha256 ${actual}; expected ${req.sha256}`);
  }
  const proto = decodeModel(reference);
  checkpoint();
  const pass: BuildPass = req.pass === 'int8-auto' ? edgePass(proto).pass : req.pass;
  onProgress({ progress: 0.1, stage: `running ${pass}`, pass });
  const built = runPass(pass, proto);
  // Recorded on the variant and in the artifact's own metadata (lepton.session_options), so a downloaded artifact
  // run by `lepton infer --on local` or `lepton eval` gets the same options as every platform the server serves.
  const sessionOptions = stampSessionOptions(built.proto);
  if (sessionOptions) built.model = encodeModel(built.proto);
  checkpoint();
  onProgress({ progress: 0.35, stage: 'evaluating' });
  const data = evalData(req.manifest, req.audioDir);
  const accuracy = await compareWithReference(reference, built.model, req.manifest, data, sessionOptions, (done) => {
    checkpoint();
    onProgress({ progress: 0.35 + 0.6 * done, stage: 'evaluating' });
  });
  const report: VariantReport = {
    pass,
    passSummary: built.summary,
    data: { kind: data.kind, description: data.description },
    samples: accuracy.samples,
    size: accuracy.size,
    outputs: accuracy.outputs,
    latency: accuracy.latency,
    ...(accuracy.machine !== undefined ? { machine: accuracy.machine } : {}),
  };
  return { bytes: built.model, pass, precision: PRECISION_OF[pass], opset: defaultOpset(built.proto), ...(sessionOptions ? { sessionOptions } : {}), report };
}

type Built = { model: Uint8Array; proto: ReturnType<typeof decodeModel>; summary: Record<string, unknown> };

function runPass(pass: BuildPass, proto: ReturnType<typeof decodeModel>): Built {
  switch (pass) {
    case 'fp16': {
      const r = convertFloat16(proto, { keepIoTypes: true });
      return { model: r.model, proto: r.proto, summary: fp16Summary(r.report) };
    }
    case 'int8-weight': {
      const r = quantizeWeightsInt8(proto, { perChannel: true });
      return { model: r.model, proto: r.proto, summary: int8WeightSummary(r.report) };
    }
    case 'int8-dynamic': {
      const r = quantizeDynamic(proto, { perChannel: true });
      return { model: r.model, proto: r.proto, summary: dynamicSummary(r.report) };
    }
  }
}

// Summaries, not the full pass reports: a job row stays small however many tensors a model has.
function fp16Summary(r: Fp16Report): Record<string, unknown> {
  return {
    keepIoTypes: r.options.keepIoTypes,
    convertedTensors: r.convertedTensors,
    clampedHigh: r.clampedHigh,
    clampedLow: r.clampedLow,
    castsInserted: r.castsInserted,
    keptFp32Nodes: r.keptFp32Nodes.length,
  };
}

function int8WeightSummary(r: Int8WeightReport): Record<string, unknown> {
  return {
    perChannel: r.options.perChannel,
    opsetBefore: r.opsetBefore,
    opsetAfter: r.opsetAfter,
    quantizedTensors: r.quantized.length,
    perChannelTensors: r.quantized.filter((q) => q.axis !== null).length,
    keptTensors: r.kept.length,
    maxAbsWeightError: r.quantized.reduce((m, q) => Math.max(m, q.maxAbsError), 0),
    notes: r.notes,
  };
}

function dynamicSummary(r: Int8DynamicReport): Record<string, unknown> {
  return {
    perChannel: r.options.perChannel,
    reduceRange: r.options.reduceRange,
    opsetBefore: r.opsetBefore,
    opsetAfter: r.opsetAfter,
    rewrittenNodes: r.rewritten.length,
    skippedNodes: r.skipped.length,
  };
}
