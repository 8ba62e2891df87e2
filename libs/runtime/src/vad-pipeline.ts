import { LeptonError } from '@lepton/tensor-core';
import type { ModelManifest, PipelineStep } from '@lepton/contracts';
import type { SegmentParams } from './segments';

/** The parts of a VAD manifest detectSpeech executes, read once from its preprocess/postprocess steps. */
export interface VadPipeline {
  /** Model sample rate (audio.resample). */
  rate: number;
  /** Model input fed with frames, new samples per frame, context samples before them (audio.frame). */
  input: string;
  frameSize: number;
  context: number;
  /** Output holding the speech probability, and the manifest's segment defaults (vad.segments). */
  output: string;
  defaults: SegmentParams;
}

type Step<Op extends PipelineStep['op']> = Extract<PipelineStep, { op: Op }>;

/**
 * Read the VAD pipeline from a manifest; MODEL_NOT_VAD names the first thing missing. Only WAV decoding,
 * mono down-mixing (which the decoder does), one resample and one framing step are supported before the model.
 */
export function vadPipeline(manifest: ModelManifest): VadPipeline {
  const model = `${manifest.id}@${manifest.version}`;
  const fail = (why: string) => new LeptonError('MODEL_NOT_VAD', `model ${model} cannot run speech detection: ${why}`, { model });
  if (manifest.task !== 'vad') throw fail(`its task is '${manifest.task}', not 'vad'`);
  const find = <Op extends PipelineStep['op']>(steps: PipelineStep[], op: Op): Step<Op> | undefined =>
    steps.find((s): s is Step<Op> => s.op === op);
  for (const step of manifest.preprocess) {
    if (!['audio.decode', 'audio.mono', 'audio.resample', 'audio.frame'].includes(step.op)) {
      throw fail(`preprocess step '${step.op}' is not an audio step detectSpeech runs`);
    }
  }
  const resample = find(manifest.preprocess, 'audio.resample');
  const frame = find(manifest.preprocess, 'audio.frame');
  const segments = find(manifest.postprocess, 'vad.segments');
  if (find(manifest.preprocess, 'audio.decode') === undefined) throw fail("preprocess has no 'audio.decode' step");
  if (resample === undefined) throw fail("preprocess has no 'audio.resample' step");
  if (frame === undefined) throw fail("preprocess has no 'audio.frame' step");
  if (segments === undefined) throw fail("postprocess has no 'vad.segments' step");
  const { threshold, negThreshold, minSpeechMs, minSilenceMs, speechPadMs } = segments;
  return {
    rate: resample.rate,
    input: frame.input,
    frameSize: frame.size,
    context: frame.context,
    output: segments.output,
    defaults: { threshold, negThreshold, minSpeechMs, minSilenceMs, speechPadMs },
  };
}
