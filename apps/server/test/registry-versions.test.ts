import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { tinyBatchModel } from '@lepton/node-platform';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcFailure } from './helpers';

/**
 * Version strings travel in URLs, headers, metric labels and device telemetry. Over real HTTP: what registers
 * must be downloadable, and what no route could serve is refused at registration, naming the value.
 */
const ADMIN = 'registry-versions-admin-key';
let server: StartedServer;
const tiny = tinyBatchModel();
const data = Buffer.from(tiny.model).toString('base64');

beforeAll(async () => {
  server = await startTestServer(tempDataDir(), { LEPTON_ADMIN_KEY: ADMIN });
});
afterAll(() => server?.close());

const admin = () => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers: { authorization: `Bearer ${ADMIN}` } })] });
const register = (version: string) => admin().deployments.registerModel.mutate({ manifest: { ...tiny.manifest, version }, variants: [{ precision: 'fp32', data }] });

describe('model versions', () => {
  it.each([
    ['a newline', 'line\nbreak', /^manifest\.version "line\\nbreak" holds the control character U\+000A; expected 1 to 64 characters, no control characters, no space at either end$/],
    ['a NUL', 'nul\u0000x', /"nul\\u0000x" holds the control character U\+0000;/],
    ['65 characters', 'v'.repeat(65), /^manifest\.version "v{65}" has 65 characters; expected 1 to 64/],
    ['spaces around it', ' 1 ', /^manifest\.version " 1 " starts or ends with a space;/],
  ])('refuses a version with %s (MANIFEST_INVALID, 400) and registers nothing', async (_what, version, message) => {
    // Each registered before; then a newline/NUL one killed every artifact download of it with a torn connection,
    // and the 65-character one could not be fetched by models.get or the artifact route (both take <= 64).
    const failure = await trpcFailure(register(version));
    expect(failure).toEqual({ httpStatus: 400, code: 'MANIFEST_INVALID', message: expect.stringMatching(message) });
    expect((await admin().models.list.query()).filter((m) => m.id === tiny.manifest.id)).toEqual([]);
  });

  it.each([['ünïcode-🙂'], ['../../etc'], ['a?b&c#d'], ['v'.repeat(64)]])('serves version %j end to end: models.get, artifact bytes, KServe', async (version) => {
    const { record } = await register(version);
    expect(record.version).toBe(version);
    expect((await admin().models.get.query({ id: tiny.manifest.id, version })).version).toBe(version);
    const art = await fetch(`${server.url}/api/v1/web/models/${tiny.manifest.id}/artifact?version=${encodeURIComponent(version)}`);
    expect(art.status).toBe(200);
    expect(Buffer.from(await art.arrayBuffer()).equals(Buffer.from(tiny.model))).toBe(true);
    // Header values are visible ASCII as they are, anything else percent-encoded (UTF-8).
    expect(decodeURIComponent(art.headers.get('x-lepton-version')!)).toBe(version);
    const infer = await fetch(`${server.url}/v2/models/${tiny.manifest.id}/versions/${encodeURIComponent(version)}/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] }] }),
    });
    expect(infer.status).toBe(200);
    expect(((await infer.json()) as { model_version: string; outputs: { data: unknown[] }[] }).outputs[0]!.data).toEqual([2, 4, 6, 8]);
  });

  it('sends a non-ASCII version percent-encoded in x-lepton-version (it threw ERR_INVALID_CHAR mid-reply)', async () => {
    const res = await fetch(`${server.url}/api/v1/web/models/${tiny.manifest.id}/artifact?version=${encodeURIComponent('ünïcode-🙂')}`);
    expect(res.headers.get('x-lepton-version')).toBe('%C3%BCn%C3%AFcode-%F0%9F%99%82');
    const ascii = await fetch(`${server.url}/api/v1/web/models/${tiny.manifest.id}/artifact?version=${encodeURIComponent('a?b&c#d')}`);
    expect(ascii.headers.get('x-lepton-version')).toBe('a?b&c#d');
    await res.arrayBuffer();
    await ascii.arrayBuffer();
  });
});
