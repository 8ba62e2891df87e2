import { LeptonError } from '@lepton/tensor-core';
import { ModelManifestSchema, type ModelRecord, type VadResult } from '@lepton/contracts';
import type { LeptonServices } from '../src';

/** Services faked at the router's edge: they record what the router passed and answer fixed values. */
export function fakeServices(opts: { devices?: boolean } = {}) {
  const manifest = ModelManifestSchema.parse({
    id: 'toy',
    name: 'Toy',
    version: '1',
    task: 'generic',
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3] }],
  });
  const record: ModelRecord = {
    id: 'toy',
    name: 'Toy',
    version: '1',
    task: 'generic',
    manifest,
    variants: [],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const calls: { vadWav?: Uint8Array; infer?: unknown; enroll?: unknown } = {};
  const vadResult = (n: number): VadResult => ({
    model: 'silero-vad-v5',
    version: '5',
    segments: [{ start: 1, end: 2, probability: 0.9 }],
    chunks: n,
    durationSec: 3,
    sampleRate: 16000,
    source: { sampleRate: 16000, channels: 1, encoding: 'int16' },
    answeredBy: 'edge',
    timings: { totalMs: 1, inferenceMs: 1 },
  });
  const services: LeptonServices = {
    platform: 'edge',
    models: {
      list: async () => [record],
      get: async (id, version) => {
        if (id !== 'toy' || (version !== undefined && version !== '1')) {
          throw new LeptonError('MODEL_NOT_FOUND', `model ${JSON.stringify(id)} is not registered; known: toy`, { id });
        }
        return record;
      },
    },
    inference: {
      infer: async (req) => {
        calls.infer = req;
        if (req.model === 'broken') throw new Error('segfault-ish detail that must not leak');
        return { model: 'toy', version: '1', outputs: req.inputs, answeredBy: 'edge', timings: { totalMs: 0, inferenceMs: 0 } };
      },
      vadDetect: async (req) => {
        calls.vadWav = req.wav;
        if (req.wav.length < 44) throw new LeptonError('WAV_TRUNCATED', `wav ends after ${req.wav.length} bytes, inside the header`);
        return vadResult(req.wav.length);
      },
      vadDetectStream: async () => vadResult(0),
    },
    ...(opts.devices
      ? {
          devices: {
            enroll: async (req) => {
              calls.enroll = req;
              return { deviceId: 'dev-1', credential: 'secret' };
            },
          },
        }
      : {}),
  };
  return { services, calls, record };
}
