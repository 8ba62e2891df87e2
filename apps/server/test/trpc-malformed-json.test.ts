import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir } from './helpers';

/** Input that is not JSON, over real HTTP: the message says it was the input's JSON (it was JSON.parse's alone). */
let server: StartedServer;
beforeAll(async () => {
  server = await startTestServer(tempDataDir());
});
afterAll(() => server?.close());

async function lepton(res: Response): Promise<{ status: number; lepton: { code: string; message: string } }> {
  const body = (await res.json()) as { error: { data: { lepton: { code: string; message: string } } } };
  return { status: res.status, lepton: body.error.data.lepton };
}

describe('tRPC input that is not JSON', () => {
  it('a cut POST body and a bad ?input= are BAD_REQUEST naming the input, and the server goes on', async () => {
    const post = await lepton(await fetch(`${server.url}/trpc/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' }));
    expect(post).toEqual({
      status: 400,
      lepton: {
        code: 'BAD_REQUEST',
        message: "request input is not valid JSON (Unexpected end of JSON input); expected the procedure's input as JSON: the POST body, or ?input= of a GET",
      },
    });
    const get = await lepton(await fetch(`${server.url}/trpc/models.get?input=${encodeURIComponent('{id:')}`));
    expect(get.status).toBe(400);
    expect(get.lepton.code).toBe('BAD_REQUEST');
    expect(get.lepton.message).toMatch(/^request input is not valid JSON \(.+\); expected the procedure's input as JSON/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
