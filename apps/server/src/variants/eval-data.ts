import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ortNode } from '@lepton/node-platform';
import { vadPipeline } from '@lepton/runtime';
import { Framer, LeptonError, decodeWav, resample } from '@lepton/tensor-core';
import type { ModelManifest, TensorSpec } from '@lepton/contracts';

type OrtTensor = InstanceType<typeof ortNode.Tensor>;

/** One model run's inputs, without state and constants; `reset` starts a new stream (state back to zeros). */
export interface EvalStep {
  feeds: Record<string, OrtTensor>;
  reset: boolean;
}

export interface EvalData {
  kind: 'audio' | 'random';
  description: string;
  steps: EvalStep[];
}

/** Enough runs for agreement to mean something, few enough to finish in seconds on a small CPU. */
export const MAX_AUDIO_STEPS = 2000;
export const RANDOM_STEPS = 32;

/**
 * What a variant is compared on. VAD models (a manifest the VAD pipeline reads) stream the WAV files of
 * `audioDir` through their own preprocessing (decode, resample, frame), one stream per file. Every other model,
 * and a VAD model when the folder has no readable WAV, gets RANDOM_STEPS inputs drawn from a fixed seed: floats in
 * [0, 1) for image layouts (NCHW/NHWC), [-1, 1) otherwise (audio's range), zeros for integer inputs, symbolic dims 1.
 */
export function evalData(manifest: ModelManifest, audioDir: string): EvalData {
  const vad = vadOf(manifest);
  if (vad) {
    const audio = audioSteps(manifest, vad, audioDir);
    if (audio) return audio;
  }
  const rng = seeded(0x5eed);
  const free = manifest.inputs.filter((i) => !stateInputs(manifest).has(i.name) && !manifest.constants.some((c) => c.input === i.name));
  const steps: EvalStep[] = [];
  for (let s = 0; s < RANDOM_STEPS; s++) {
    steps.push({ feeds: Object.fromEntries(free.map((spec) => [spec.name, randomTensor(spec, rng)])), reset: s === 0 });
  }
  const why = vad ? `; no readable WAV in ${audioDir}` : '';
  return { kind: 'random', description: `${RANDOM_STEPS} random inputs (seeded)${why}`, steps };
}

function vadOf(manifest: ModelManifest): ReturnType<typeof vadPipeline> | undefined {
  try {
    return vadPipeline(manifest);
  } catch {
    return undefined;
  }
}

function audioSteps(manifest: ModelManifest, vad: ReturnType<typeof vadPipeline>, dir: string): EvalData | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
  } catch {
    return undefined;
  }
  const steps: EvalStep[] = [];
  const used: string[] = [];
  const width = vad.context + vad.frameSize;
  const spec = manifest.inputs.find((i) => i.name === vad.input);
  const dims = spec ? spec.shape.map((d) => (typeof d === 'number' ? d : 1)) : [1, width];
  for (const name of names) {
    if (steps.length >= MAX_AUDIO_STEPS) break;
    let samples: Float32Array;
    try {
      const wav = decodeWav(new Uint8Array(readFileSync(join(dir, name))));
      samples = wav.format.sampleRate === vad.rate ? wav.samples : resample(wav.samples, wav.format.sampleRate, vad.rate);
    } catch {
      continue;
    }
    const framer = new Framer(vad.frameSize, vad.context);
    const frames = [...framer.push(samples), ...framer.flush()].slice(0, MAX_AUDIO_STEPS - steps.length);
    frames.forEach((frame, i) => steps.push({ feeds: { [vad.input]: new ortNode.Tensor('float32', frame, dims) }, reset: i === 0 }));
    used.push(name);
  }
  if (steps.length === 0) return undefined;
  return { kind: 'audio', description: `${steps.length} chunks of ${used.length} WAV files in ${dir} (${used.join(', ')})`, steps };
}

export function stateInputs(manifest: ModelManifest): Set<string> {
  return new Set(manifest.state.map((s) => s.input));
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    // mulberry32: a tiny, well-mixed generator, so reports are the same on every run.
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dimsOf(spec: TensorSpec): number[] {
  return spec.shape.map((d) => (typeof d === 'number' ? d : 1));
}

function randomTensor(spec: TensorSpec, rng: () => number): OrtTensor {
  const dims = dimsOf(spec);
  const n = dims.reduce((a, b) => a * b, 1);
  const image = spec.layout === 'NCHW' || spec.layout === 'NHWC';
  switch (spec.dtype) {
    case 'float32':
      return new ortNode.Tensor('float32', Float32Array.from({ length: n }, () => (image ? rng() : rng() * 2 - 1)), dims);
    case 'float64':
      return new ortNode.Tensor('float64', Float64Array.from({ length: n }, () => (image ? rng() : rng() * 2 - 1)), dims);
    default:
      return zeros(spec, dims);
  }
}

/** A zero tensor of the spec's dtype (state at the start of a stream, integer inputs). */
export function zeros(spec: TensorSpec, dims = dimsOf(spec)): OrtTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (spec.dtype) {
    case 'float32':
      return new ortNode.Tensor('float32', new Float32Array(n), dims);
    case 'float64':
      return new ortNode.Tensor('float64', new Float64Array(n), dims);
    case 'int64':
      return new ortNode.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32':
      return new ortNode.Tensor('int32', new Int32Array(n), dims);
    case 'uint8':
      return new ortNode.Tensor('uint8', new Uint8Array(n), dims);
    case 'int8':
      return new ortNode.Tensor('int8', new Int8Array(n), dims);
    case 'bool':
      return new ortNode.Tensor('bool', new Uint8Array(n), dims);
    default:
      throw new LeptonError('DTYPE_UNSUPPORTED', `input ${JSON.stringify(spec.name)} is ${spec.dtype}; variant reports feed float32/float64/int64/int32/uint8/int8/bool inputs`, {
        input: spec.name,
      });
  }
}

/** A manifest constant (Silero's sr = 16000) as a tensor. */
export function constantTensor(c: ModelManifest['constants'][number]): OrtTensor {
  const n = c.shape.reduce((a, b) => a * b, 1);
  if (c.value.length !== n) {
    throw new LeptonError('MANIFEST_INVALID', `constant ${JSON.stringify(c.input)} has ${c.value.length} values; its shape [${c.shape.join(', ')}] needs ${n}`);
  }
  switch (c.dtype) {
    case 'int64':
      return new ortNode.Tensor('int64', BigInt64Array.from(c.value, (v) => BigInt(v)), c.shape);
    case 'int32':
      return new ortNode.Tensor('int32', Int32Array.from(c.value, Number), c.shape);
    case 'float32':
      return new ortNode.Tensor('float32', Float32Array.from(c.value, Number), c.shape);
    default:
      throw new LeptonError('DTYPE_UNSUPPORTED', `constant ${JSON.stringify(c.input)} is ${c.dtype}; variant reports feed int64/int32/float32 constants`);
  }
}
