import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import { ModelManifestSchema, decodeWireTensor, encodeWireTensor, type ModelRecord } from '@lepton/contracts';
import { createPredictor, type Predictor } from '@lepton/runtime';
import type { LeptonServices } from '@lepton/api';
import { ort, registerLeptonHttp, tinyBatchModel } from '../src';

// A host like the edge agent: its inference service has `infer` (JSON wire tensors) but no `inferTensors`, so the
// KServe routes go through the wire form. The model and onnxruntime are real.
const tiny = tinyBatchModel();
const manifest = ModelManifestSchema.parse(tiny.manifest);
const record: ModelRecord = { id: manifest.id, name: manifest.name, version: manifest.version, task: manifest.task, manifest, variants: [], createdAt: '2026-01-01T00:00:00.000Z' };
let predictor: Predictor;
let app: FastifyInstance;
let url: string;

const services: LeptonServices = {
  platform: 'edge',
  models: {
    list: async () => [record],
    get: async (id) => {
      if (id !== record.id) throw new LeptonError('MODEL_NOT_FOUND', `model ${JSON.stringify(id)} is not registered`);
      return record;
    },
  },
  inference: {
    async infer(req) {
      const feeds = Object.fromEntries(req.inputs.map((w) => [w.name, decodeWireTensor(w)]));
      const out = await predictor.run(feeds);
      const names = req.outputs ?? Object.keys(out);
      return { model: record.id, version: record.version, outputs: names.map((n) => encodeWireTensor(n, out[n]!, req.format)), answeredBy: 'edge', timings: { totalMs: 0, inferenceMs: 0 } };
    },
    vadDetect: async () => {
      throw new LeptonError('NOT_IMPLEMENTED', 'vad');
    },
    vadDetectStream: async () => {
      throw new LeptonError('NOT_IMPLEMENTED', 'vad');
    },
  },
};

beforeAll(async () => {
  predictor = await createPredictor({ manifest, model: tiny.model, ort });
  app = Fastify({ logger: false });
  await registerLeptonHttp(app, services);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await predictor.release();
});

describe('KServe v2 on a host without a tensor inference path (edge agent)', () => {
  it('answers JSON infer through the wire form, outputs in the order asked', async () => {
    const res = await fetch(`${url}/v2/models/tiny-batch/infer`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'e1',
        inputs: [
          { name: 'x', shape: [1, 4], datatype: 'FP32', data: [[0.5, 1, -1, 3]] },
          { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, true, false] },
        ],
        outputs: [{ name: 'n' }, { name: 'y' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      model_name: 'tiny-batch',
      model_version: '1',
      id: 'e1',
      outputs: [
        { name: 'n', datatype: 'BOOL', shape: [1, 3], data: [false, false, true] },
        { name: 'y', datatype: 'FP32', shape: [1, 4], data: [1, 2, -2, 6] },
      ],
    });
  });

  it('answers metadata and a model error as { error }', async () => {
    expect(((await (await fetch(`${url}/v2/models/tiny-batch`)).json()) as { platform: string }).platform).toBe('onnxruntime_onnx');
    const bad = await fetch(`${url}/v2/models/tiny-batch/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/needs input 'b'/), code: 'INPUT_MISSING' });
  });
});
