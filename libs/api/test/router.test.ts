import { TRPCError } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { describe, expect, it } from 'vitest';
import { appRouter, createCaller, MAX_INLINE_WAV_BYTES } from '../src';
import { fakeServices } from './fake-services';

async function rejection(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

/** One request through tRPC's fetch adapter, to see the formatted error shape and HTTP status clients get. */
async function overHttp(services: ReturnType<typeof fakeServices>['services'], path: string, body: unknown) {
  const res = await fetchRequestHandler({
    endpoint: '/trpc',
    router: appRouter,
    createContext: () => ({ services }),
    req: new Request(`http://localhost/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  });
  return { status: res.status, json: (await res.json()) as { error: { message: string; data: Record<string, unknown> } } };
}

describe('appRouter through createCaller', () => {
  it('lists and gets models', async () => {
    const { services, record } = fakeServices();
    const caller = createCaller({ services });
    expect(await caller.models.list()).toEqual([record]);
    expect(await caller.models.get({ id: 'toy' })).toEqual(record);
  });

  it('maps a LeptonError to the tRPC code of its ERROR_CODES entry, keeping it as cause', async () => {
    const { services } = fakeServices();
    const err = await rejection(createCaller({ services }).models.get({ id: 'nope' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('model "nope" is not registered; known: toy');
    expect((err.cause as unknown as { code: string }).code).toBe('MODEL_NOT_FOUND');
  });

  it('passes infer requests with defaults applied', async () => {
    const { services, calls } = fakeServices();
    const input = { name: 'x', dtype: 'float32' as const, shape: [1, 3], data: [1, 2, 'NaN'] };
    const out = await createCaller({ services }).infer({ model: 'toy', inputs: [input] });
    expect(out.outputs).toEqual([input]);
    expect(calls.infer).toEqual({ model: 'toy', inputs: [input], format: 'base64' });
  });

  it('decodes the base64 WAV of vad.detect byte for byte', async () => {
    const { services, calls } = fakeServices();
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    const res = await createCaller({ services }).vad.detect({ wav: Buffer.from(bytes).toString('base64') });
    expect(res.chunks).toBe(300);
    expect(calls.vadWav).toEqual(bytes);
  });

  it('rejects a too-large inline WAV before decoding it', async () => {
    const { services, calls } = fakeServices();
    const wav = 'A'.repeat(Math.ceil(((MAX_INLINE_WAV_BYTES + 3) * 4) / 3));
    const err = await rejection(createCaller({ services }).vad.detect({ wav }));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect((err.cause as unknown as { code: string }).code).toBe('AUDIO_TOO_LARGE');
    expect(calls.vadWav).toBeUndefined();
  });

  it('answers NOT_IMPLEMENTED for devices.enroll on a host without a DeviceService', async () => {
    const { services } = fakeServices();
    const err = await rejection(createCaller({ services }).devices.enroll({ token: 't', name: 'pi' }));
    expect(err.code).toBe('NOT_IMPLEMENTED');
    expect(err.message).toContain('edge host');
  });

  it('enrolls through the DeviceService when present', async () => {
    const { services, calls } = fakeServices({ devices: true });
    const res = await createCaller({ services }).devices.enroll({ token: 't', name: 'pi', capabilities: { arch: 'arm64', gpu: false } });
    expect(res).toEqual({ deviceId: 'dev-1', credential: 'secret' });
    expect(calls.enroll).toEqual({ token: 't', name: 'pi', capabilities: { arch: 'arm64', gpu: false } });
  });
});

describe('error shape over HTTP (fetch adapter)', () => {
  it('flattens a ZodError so the client sees which field was wrong', async () => {
    const { services } = fakeServices();
    const { status, json } = await overHttp(services, 'infer', {
      model: 'toy',
      inputs: [{ name: 'x', dtype: 'float33', shape: [1], data: [1] }],
    });
    expect(status).toBe(400);
    const lepton = json.error.data['lepton'] as { code: string; message: string };
    expect(lepton.code).toBe('VALIDATION_FAILED');
    expect(lepton.message).toMatch(/^inputs\.0\.dtype: /);
    // The top-level message is the same readable sentence, not zod's JSON dump of its issues.
    expect(json.error.message).toBe(lepton.message);
    const zod = json.error.data['zodError'] as { fieldErrors: Record<string, string[]> };
    expect(Object.keys(zod.fieldErrors)).toEqual(['inputs']);
  });

  it('answers an unknown procedure with ROUTE_NOT_FOUND and 404, like the HTTP routes', async () => {
    const { services } = fakeServices();
    const { status, json } = await overHttp(services, 'models.nope', {});
    expect(status).toBe(404);
    expect((json.error.data['lepton'] as { code: string }).code).toBe('ROUTE_NOT_FOUND');
    expect(json.error.message).toMatch(/models\.nope/);
  });

  it('gives data.lepton and the ERROR_CODES HTTP status for a LeptonError', async () => {
    const { services } = fakeServices();
    const { status, json } = await overHttp(services, 'vad.detect', { wav: Buffer.from('RIFF').toString('base64') });
    expect(status).toBe(400);
    expect(json.error.data['lepton']).toEqual({ code: 'WAV_TRUNCATED', message: 'wav ends after 4 bytes, inside the header' });
    expect(json.error.data['code']).toBe('BAD_REQUEST');
  });

  it('names a bad base64 character', async () => {
    const { services } = fakeServices();
    const { status, json } = await overHttp(services, 'vad.detect', { wav: 'UklG*kY=' });
    expect(status).toBe(400);
    expect(json.error.data['lepton']).toMatchObject({ code: 'TENSOR_ENCODING_INVALID' });
    expect((json.error.data['lepton'] as { message: string }).message).toMatch(/^wav: .*character "\*" at position 4 /);
  });

  it('answers a POST that is not JSON with 415 CONTENT_TYPE_UNSUPPORTED naming the content type, not an internal error', async () => {
    const { services } = fakeServices();
    // A Request with a string body and no content-type header is sent as text/plain;charset=UTF-8.
    const post = async (headers: Record<string, string>) => {
      const res = await fetchRequestHandler({
        endpoint: '/trpc',
        router: appRouter,
        createContext: () => ({ services }),
        req: new Request('http://localhost/trpc/infer', { method: 'POST', headers, body: '{"model":"toy","inputs":[]}' }),
      });
      return { status: res.status, lepton: ((await res.json()) as { error: { data: { lepton: { code: string; message: string } } } }).error.data.lepton };
    };
    const plain = await post({ 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.lepton.code).toBe('CONTENT_TYPE_UNSUPPORTED');
    expect(plain.lepton.message).toContain('text/plain');
  });

  it('hides the message and stack of an unexpected error', async () => {
    const { services } = fakeServices();
    const { status, json } = await overHttp(services, 'infer', { model: 'broken', inputs: [{ name: 'x', dtype: 'int8', shape: [1], data: [1] }] });
    expect(status).toBe(500);
    expect(json.error.message).toBe('internal error');
    expect(json.error.data['lepton']).toEqual({ code: 'INTERNAL', message: 'internal error' });
    expect(json.error.data['stack']).toBeUndefined();
  });
});
