import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@lepton/contracts';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir } from './helpers';

/**
 * A body over the tRPC limit (64 MiB) and a content type a route does not take, over real HTTP: the Lepton code
 * is one whose ERROR_CODES status is the status sent (both were BAD_REQUEST, which says 400, on a 413 / 415).
 */
const LIMIT = 64 * 1024 * 1024;
let server: StartedServer;
beforeAll(async () => {
  server = await startTestServer(tempDataDir());
});
afterAll(() => server?.close());

/** Write the request (head, then each body part), and collect the answer until the server has sent it whole. */
function raw(head: string, parts: Buffer[] = []): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(head);
      for (const p of parts) socket.write(p);
    });
    let answer = Buffer.alloc(0);
    const done = () => {
      const text = answer.toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const headers = text.slice(0, split);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(headers)?.[1] ?? NaN);
      if (split < 0 || Buffer.byteLength(text.slice(split + 4)) < length) return false;
      socket.destroy();
      resolve({ status: Number(text.slice(9, 12)), headers, body: text.slice(split + 4) });
      return true;
    };
    socket.on('data', (d: Buffer) => {
      answer = Buffer.concat([answer, d]);
      done();
    });
    socket.on('close', () => done() || reject(new Error(`connection closed after ${answer.length} bytes: ${answer.toString('latin1').slice(0, 200)}`)));
    socket.on('error', (e) => done() || reject(e));
  });
}

interface TrpcErrorBody {
  error: { message: string; code: number; data: { code: string; httpStatus: number; lepton: { code: ErrorCode; message: string; details?: unknown } } };
}

describe('tRPC body over the limit', () => {
  it('is 413 BODY_TOO_LARGE (tRPC PAYLOAD_TOO_LARGE) naming the route, the declared size and the limit', async () => {
    const res = await raw(`POST /trpc/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + 1}\r\n\r\n{"model":`);
    expect(res.status).toBe(413);
    const { error } = JSON.parse(res.body) as TrpcErrorBody;
    const message = `POST /trpc/infer: the request body is ${LIMIT + 1} bytes; tRPC requests take at most ${LIMIT} bytes (64 MiB)`;
    expect(error.data.lepton).toEqual({ code: 'BODY_TOO_LARGE', message, details: { limit: LIMIT, size: LIMIT + 1 } });
    expect(error.message).toBe(message);
    expect(error.data).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
    expect(error.code).toBe(-32013); // tRPC's JSON-RPC code for PAYLOAD_TOO_LARGE
    expect(ERROR_CODES[error.data.lepton.code]).toEqual({ trpc: 'PAYLOAD_TOO_LARGE', http: 413 });
  });

  it('sends vad.detect callers (only them) to the streaming route', async () => {
    const res = await raw(`POST /trpc/vad.detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + 10}\r\n\r\n`);
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as TrpcErrorBody).error.data.lepton).toEqual({
      code: 'BODY_TOO_LARGE',
      message:
        `POST /trpc/vad.detect: the request body is ${LIMIT + 10} bytes; tRPC requests take at most ${LIMIT} bytes (64 MiB); ` +
        'send WAVs larger than that as the raw body of POST /api/v1/vad/detect, which reads them as they arrive',
      details: { limit: LIMIT, size: LIMIT + 10 },
    });
  });

  it('says a chunked body (no content-length) passed the limit', async () => {
    // 65 chunks of 1 MiB, then the last chunk: the server counts them as they come and refuses past 64 MiB.
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    const chunk = Buffer.concat([Buffer.from(`${mib.length.toString(16)}\r\n`), mib, Buffer.from('\r\n')]);
    const parts = [...Array.from({ length: 65 }, () => chunk), Buffer.from('0\r\n\r\n')];
    const res = await raw('POST /trpc/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', parts);
    expect(res.status).toBe(413);
    expect((JSON.parse(res.body) as TrpcErrorBody).error.data.lepton).toEqual({
      code: 'BODY_TOO_LARGE',
      message: `POST /trpc/infer: the request body passed ${LIMIT} bytes (chunked, no content-length); tRPC requests take at most ${LIMIT} bytes (64 MiB)`,
      details: { limit: LIMIT },
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('a content type the route does not take', () => {
  it('is 415 CONTENT_TYPE_UNSUPPORTED on /trpc (tRPC UNSUPPORTED_MEDIA_TYPE), naming what was sent and expected', async () => {
    const res = await fetch(`${server.url}/trpc/infer`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"model":"m","inputs":[]}' });
    expect(res.status).toBe(415);
    const { error } = (await res.json()) as TrpcErrorBody;
    expect(error.data.lepton).toEqual({
      code: 'CONTENT_TYPE_UNSUPPORTED',
      message: 'content-type "text/plain"; expected application/json',
      details: { expected: ['application/json'] },
    });
    expect(error.data).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 });
    expect(error.code).toBe(-32015); // tRPC's JSON-RPC code for UNSUPPORTED_MEDIA_TYPE
    expect(ERROR_CODES[error.data.lepton.code]).toEqual({ trpc: 'UNSUPPORTED_MEDIA_TYPE', http: 415 });
  });

  it('is 415 CONTENT_TYPE_UNSUPPORTED on POST /api/v1/vad/detect, listing the WAV types', async () => {
    const res = await fetch(`${server.url}/api/v1/vad/detect`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(64) });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({
      code: 'CONTENT_TYPE_UNSUPPORTED',
      message: 'content-type "image/png"; expected audio/wav, audio/x-wav, audio/wave, application/octet-stream',
      details: { expected: ['audio/wav', 'audio/x-wav', 'audio/wave', 'application/octet-stream'] },
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
