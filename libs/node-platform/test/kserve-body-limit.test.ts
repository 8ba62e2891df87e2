import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import type { LeptonServices } from '@lepton/api';
import { registerLeptonHttp } from '../src';

// A body past the KServe route's limit is refused by Fastify before any handler runs; the answer must still carry a
// Lepton code and name the limit (it was `{"error":"Request body is too large","code":"BAD_REQUEST"}`).
const unused = async (): Promise<never> => {
  throw new LeptonError('NOT_IMPLEMENTED', 'not used by this test');
};
const services: LeptonServices = {
  platform: 'edge',
  models: { list: async () => [], get: unused },
  inference: { infer: unused, vadDetect: unused, vadDetectStream: unused },
};
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify({ logger: false });
  await registerLeptonHttp(app, services, { kserve: { maxBodyBytes: 4096 } });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

describe('KServe infer body limit', () => {
  it('answers 413 TENSOR_TOO_LARGE naming the limit for a body past it, binary or JSON', async () => {
    for (const [contentType, body] of [
      ['application/octet-stream', new Uint8Array(8192)],
      ['application/json', JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2048], data: new Array(2048).fill(0) }] })],
    ] as const) {
      const res = await fetch(`${url}/v2/models/any/infer`, { method: 'POST', headers: { 'content-type': contentType }, body });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        error: 'request body is larger than the 4096 bytes KServe infer accepts (JSON header and binary tensors together); send fewer or smaller tensors',
        code: 'TENSOR_TOO_LARGE',
      });
    }
  });
});
