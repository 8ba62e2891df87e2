import type { ModelManifest } from '@lepton/contracts';

/**
 * Silero VAD v5 as shipped in @ricky0123/vad-web@0.0.31 (dist/silero_vad_v5.onnx, MIT). Names and shapes were read
 * from the model with onnxruntime-node 1.30: inputs input float32 [batch, samples], state float32 [2, batch, 128],
 * sr int64 scalar; outputs output float32 [batch, 1], stateN float32 [2, batch, 128]. We pin batch 1 and
 * 576 samples (64 context + 512 new at 16 kHz), the framing the model was trained with.
 *
 * Postprocess defaults: Silero's recommendations (threshold 0.5, negThreshold = threshold - 0.15, min speech
 * 250 ms, 30 ms padding) except min silence 250 ms instead of 100 ms: the espeak-ng "weather" sentence has a
 * 160 ms pause whose middle chunk scores 0.48-0.51 depending on the file's bit depth, so 100 ms split the
 * sentence for some encodings of the same audio and not others. Ends do not move with min silence (a segment
 * ends where its silence began). Checked in test/vad.test.ts: starts within 0.15 s, ends within 0.3 s of the
 * true speech bounds, and every encoding of a file gives the same segments within 0.1 s.
 */
export const SILERO_VAD_V5_MANIFEST: ModelManifest = {
  id: 'silero-vad-v5',
  name: 'Silero VAD v5',
  version: '5.0.0',
  task: 'vad',
  description: 'Voice activity detection: speech probability per 32 ms chunk of 16 kHz mono audio.',
  license: 'MIT',
  source: '@ricky0123/vad-web@0.0.31 dist/silero_vad_v5.onnx',
  inputs: [
    {
      name: 'input',
      dtype: 'float32',
      shape: [1, 576],
      layout: 'NC',
      description: '64 samples of context from the previous chunk, then 512 new samples, mono float32 in [-1, 1] at 16 kHz',
    },
    { name: 'state', dtype: 'float32', shape: [2, 1, 128], layout: 'any', description: 'recurrent state (zeros at start)' },
    { name: 'sr', dtype: 'int64', shape: [], layout: 'scalar', description: 'sample rate; always 16000' },
  ],
  outputs: [
    { name: 'output', dtype: 'float32', shape: [1, 1], layout: 'NC', description: 'speech probability of the chunk' },
    { name: 'stateN', dtype: 'float32', shape: [2, 1, 128], layout: 'any', description: 'state for the next chunk' },
  ],
  state: [{ input: 'state', output: 'stateN' }],
  constants: [{ input: 'sr', dtype: 'int64', shape: [], value: [16000] }],
  preprocess: [
    { op: 'audio.decode', format: 'wav' },
    { op: 'audio.mono' },
    { op: 'audio.resample', rate: 16000 },
    { op: 'audio.frame', input: 'input', size: 512, context: 64 },
  ],
  postprocess: [
    {
      op: 'vad.segments',
      output: 'output',
      threshold: 0.5,
      negThreshold: 0.35,
      minSpeechMs: 250,
      minSilenceMs: 250,
      speechPadMs: 30,
    },
  ],
  sessionOptions: {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  },
};
