import Fastify, { type FastifyInstance } from 'fastify';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import type { VadResult } from '@lepton/contracts';
import type { AppRouter, LeptonServices } from '@lepton/api';
import { connect } from 'node:net';
import { leptonFastifyOptions, postWavStream, registerLeptonHttp } from '../src';

/** Inference faked at the edge: the stream consumer records what the route handed it. */
const seen: { chunks: number; bytes: number; firstBytes: string; query?: unknown } = { chunks: 0, bytes: 0, firstBytes: '' };
const result = (chunks: number): VadResult => ({
  model: 'silero-vad-v5',
  version: '5',
  segments: [],
  chunks,
  durationSec: 0,
  sampleRate: 16000,
  source: { sampleRate: 16000, channels: 1, encoding: 'int16' },
  answeredBy: 'server',
  timings: { totalMs: 0, inferenceMs: 0 },
});
const services: LeptonServices = {
  platform: 'server',
  models: {
    list: async () => [],
    get: async (id) => {
      throw new LeptonError('MODEL_NOT_FOUND', `model ${JSON.stringify(id)} is not registered`, { id });
    },
  },
  inference: {
    infer: async () => {
      throw new LeptonError('NOT_IMPLEMENTED', 'infer');
    },
    vadDetect: async (req) => result(req.wav.length),
    vadDetectStream: async (req) => {
      seen.chunks = 0;
      seen.bytes = 0;
      seen.query = { model: req.model, options: req.options, includeProbabilities: req.includeProbabilities };
      for await (const chunk of req.audio) {
        if (seen.chunks === 0) {
          seen.firstBytes = new TextDecoder().decode(chunk.subarray(0, 4));
          if (seen.firstBytes !== 'RIFF') throw new LeptonError('WAV_INVALID', `file starts with ${JSON.stringify(seen.firstBytes)}; expected "RIFF"`);
        }
        seen.chunks++;
        seen.bytes += chunk.length;
      }
      return result(seen.chunks);
    },
  },
};

let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify({ ...leptonFastifyOptions(), logger: false });
  await registerLeptonHttp(app, services);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => app.close());

function riff(size: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size);
  b.set(new TextEncoder().encode('RIFF'));
  return b;
}

describe('POST /api/v1/vad/detect', () => {
  it('hands the body to the service as a stream of chunks, with the parsed query', async () => {
    const size = 8 * 1024 * 1024 + 3;
    async function* pieces() {
      const whole = riff(size);
      for (let o = 0; o < size; o += 65536) yield whole.subarray(o, o + 65536);
    }
    const res = await postWavStream(url, pieces(), { threshold: 0.6, minSilenceMs: 50, includeProbabilities: true });
    expect(res.answeredBy).toBe('server');
    expect(seen.bytes).toBe(size);
    expect(seen.chunks).toBeGreaterThan(1);
    expect(seen.query).toEqual({ model: 'silero-vad-v5', options: { threshold: 0.6, minSilenceMs: 50 }, includeProbabilities: true });
  });

  it('answers an endless non-WAV upload with 400 WAV_INVALID (the body is never buffered whole)', async () => {
    async function* endless() {
      for (;;) yield new Uint8Array(65536).fill(0x41);
    }
    const err = await postWavStream(url, endless()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeptonError);
    expect(err).toMatchObject({ code: 'WAV_INVALID', message: 'file starts with "AAAA"; expected "RIFF"' });
  });

  it('rejects a misspelt or out-of-range query parameter, naming it', async () => {
    const res = await fetch(`${url}/api/v1/vad/detect?treshold=0.5`, { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: riff(64) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.message).toContain('treshold');
    const err = await postWavStream(url, riff(64), { threshold: 1.5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((err as Error).message).toMatch(/^query threshold: /);
  });

  it('rejects other content types with 415 and an empty body with WAV_EMPTY', async () => {
    const res = await fetch(`${url}/api/v1/vad/detect`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'RIFF' });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      code: 'CONTENT_TYPE_UNSUPPORTED',
      message: 'content-type "text/plain"; expected audio/wav, audio/x-wav, audio/wave, application/octet-stream',
      details: { expected: ['audio/wav', 'audio/x-wav', 'audio/wave', 'application/octet-stream'] },
    });
    const empty = await fetch(`${url}/api/v1/vad/detect`, { method: 'POST' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { code: string }).code).toBe('WAV_EMPTY');
  });

  it('answers a tRPC POST that is not JSON with 415 CONTENT_TYPE_UNSUPPORTED naming the content type (it was INTERNAL)', async () => {
    const body = JSON.stringify({ model: 'x', inputs: [] });
    const cases: [Record<string, string>, string][] = [
      [{ 'content-type': 'text/plain' }, 'content-type "text/plain"; expected application/json'],
      [{ 'content-type': 'application/octet-stream' }, 'content-type "application/octet-stream"; expected application/json'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'content-type "application/x-www-form-urlencoded"; expected application/json'],
      [{}, 'no content-type header; expected application/json'],
    ];
    for (const [headers, message] of cases) {
      // fetch would label a string body text/plain; a Uint8Array body goes without a content type.
      const res = await fetch(`${url}/trpc/infer`, { method: 'POST', headers, body: new TextEncoder().encode(body) });
      expect(res.status).toBe(415);
      const json = (await res.json()) as { error: { message: string; data: { httpStatus: number; lepton: { code: string; message: string } } } };
      expect(json.error.data.lepton).toMatchObject({ code: 'CONTENT_TYPE_UNSUPPORTED', message });
      expect(json.error.message).toBe(message);
      expect(json.error.data.httpStatus).toBe(415);
    }
    // application/json with a charset still reaches the procedure (this fake's infer answers NOT_IMPLEMENTED).
    const ok = await fetch(`${url}/trpc/infer`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
    expect(ok.status).toBe(501);
    expect(((await ok.json()) as { error: { data: { lepton: { code: string } } } }).error.data.lepton.code).toBe('NOT_IMPLEMENTED');
  });

  it('reports an unreachable server as UPSTREAM_UNAVAILABLE', async () => {
    // A port that was just free: nobody listens on it.
    const probe = Fastify();
    const port = Number(new URL(await probe.listen({ port: 0, host: '127.0.0.1' })).port);
    await probe.close();
    const err = await postWavStream(`http://127.0.0.1:${port}`, riff(64)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect((err as Error).message).toBe(`cannot reach http://127.0.0.1:${port}/api/v1/vad/detect: ECONNREFUSED`);
  });
});

describe('tRPC and health on the same instance', () => {
  it('answers a body over the tRPC limit in tRPC’s error envelope', async () => {
    const small = Fastify({ logger: false });
    await registerLeptonHttp(small, services, { maxTrpcBodyBytes: 1024 });
    const smallUrl = await small.listen({ port: 0, host: '127.0.0.1' });
    try {
      const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${smallUrl}/trpc` })] });
      const err = await client.vad.detect.mutate({ wav: 'A'.repeat(4096) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCClientError);
      const data = (err as TRPCClientError<AppRouter>).data!;
      expect(data.httpStatus).toBe(413);
      expect(data.code).toBe('PAYLOAD_TOO_LARGE');
      expect(data.lepton.code).toBe('BODY_TOO_LARGE');
      expect(data.lepton.message).toMatch(
        /^POST \/trpc\/vad\.detect: the request body is \d+ bytes; tRPC requests take at most 1024 bytes; send WAVs larger than that as the raw body of POST \/api\/v1\/vad\/detect, /,
      );
    } finally {
      await small.close();
    }
  });

  it('serves /healthz and the KServe probes', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', platform: 'server', models: [] });
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
  });

  it('gives a typed client data.lepton and the mapped HTTP status', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] });
    const err = await client.models.get.query({ id: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    const data = (err as TRPCClientError<AppRouter>).data!;
    expect(data.httpStatus).toBe(404);
    expect(data.lepton).toEqual({ code: 'MODEL_NOT_FOUND', message: 'model "nope" is not registered', details: { id: 'nope' } });
  });

  it('accepts tRPC bodies beyond Fastify’s 1 MiB default (inline WAVs)', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc` })] });
    const wav = Buffer.from(riff(3 * 1024 * 1024)).toString('base64');
    expect((await client.vad.detect.mutate({ wav })).chunks).toBe(3 * 1024 * 1024);
  });
});

describe('what no route handles (the same on the server and the edge agent)', () => {
  it('answers unknown routes and wrong methods with 404 ROUTE_NOT_FOUND in the Lepton shape', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/healthz'], ['GET', '/api/v1/vad/detect']] as const) {
      const res = await fetch(`${url}${path}?a=1`, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      // No /openapi.json on this host (the edge agent has none), so the message does not point at it.
      expect(await res.json()).toEqual({ code: 'ROUTE_NOT_FOUND', message: `no route ${method} ${path}`, details: { method, path } });
    }
  });

  it('answers /v2 paths no KServe route takes in the KServe shape { error, code }', async () => {
    const res = await fetch(`${url}/v2/models/x/infer`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no route GET /v2/models/x/infer', code: 'ROUTE_NOT_FOUND' });
  });

  it('answers malformed HTTP and an undecodable URL with BAD_REQUEST in the Lepton shape', async () => {
    const send = (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write(bytes));
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const garbage = await send('HELLO / WORLD\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/^malformed HTTP request \(HPE_/) });
    const badUrl = await fetch(`${url}/v2/models/%zz`);
    expect(badUrl.status).toBe(400);
    expect(await badUrl.json()).toEqual({ error: "GET /v2/models/%zz: '/v2/models/%zz' is not a valid url component", code: 'BAD_REQUEST' });
  });
});
