import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { Browser, Page } from 'playwright-core';
import type { AppRouter } from '@lepton/api';
import { decodeWav } from '@lepton/tensor-core';
import { speechFixture } from '@lepton/test-fixtures';
import type { RunResult } from '../src/vad-view';
import { buildWebApp, launchChromium, startServer, tearDown, type RunningServer } from './harness';

/**
 * Inputs a person may give the page that are not the happy path, in a real Chromium against the real server:
 * an empty file, a WAV bigger than a tRPC request may be, an older model version picked while a newer one is
 * registered, and parity input files that are not wire tensors. Each error is text in the page, with a code; no
 * uncaught error in the page.
 */
const MODEL = 'silero-vad-v5';
let webDir: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'lepton-web-inputs-'));

/** A file the page's user picks (its name is what the page shows). */
function tempFile(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

beforeAll(async () => {
  webDir = await buildWebApp();
  server = await startServer(webDir);
  // A newer version of the bundled model whose bytes do not load: the server's latest, and never selected here.
  const adminKey = /Admin API key: (\S+)/.exec(server.output())![1]!;
  const admin = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers: { authorization: `Bearer ${adminKey}` } })] });
  const manifest = { ...(await admin.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, version: '5.0.1-broken' };
  await admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: Buffer.from('not an onnx model '.repeat(64)).toString('base64') }] });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
  await page.selectOption('#model-select', `${MODEL}@5.0.0`);
}, 180_000);

afterAll(async () => {
  await tearDown(browser, server, webDir);
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

async function upload(path: string): Promise<{ state: string; error: string; result: RunResult | undefined }> {
  const before = Number((await page.getAttribute('#app', 'data-run')) ?? 0);
  await page.setInputFiles('#wav-file', path);
  await page.waitForFunction((n) => Number(document.querySelector('#app')!.getAttribute('data-run') ?? 0) > n, before, { timeout: 240_000 });
  const text = await page.textContent('#result-json');
  return { state: (await page.getAttribute('#app', 'data-state'))!, error: (await page.textContent('#error')) ?? '', result: text ? (JSON.parse(text) as RunResult) : undefined };
}

describe('VAD page inputs', () => {
  it('runs the version selected on the server too, not the latest one', async () => {
    // Without version the server ran 5.0.1-broken: 'server: MODEL_LOAD_FAILED' under a page that said 5.0.0.
    const run = await upload(speechFixture('quick').path);
    expect(run.error).toBe('');
    expect(run.state).toBe('done');
    expect(run.result!.model).toEqual({ id: MODEL, version: '5.0.0' });
    expect([run.result!.browser!.version, run.result!.server!.version]).toEqual(['5.0.0', '5.0.0']);
    const times = (r: RunResult['server']) => r!.segments.map((x) => [x.start, x.end]);
    expect(times(run.result!.server)).toEqual(times(run.result!.browser));
    expect(run.result!.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  });

  it('says WAV_EMPTY once for a 0-byte file', async () => {
    // It said 'browser: WAV_TRUNCATED ... inside the RIFF header' and 'server: VALIDATION_FAILED: wav: Too small'.
    const run = await upload(tempFile('empty.wav', new Uint8Array(0)));
    expect(run.state).toBe('error');
    expect(run.error).toBe('page: WAV_EMPTY: empty.wav is empty (0 bytes); expected a WAV file');
    expect(await page.isVisible('#error')).toBe(true);
  });

  it('analyses a WAV larger than a tRPC request may be (34 MiB, about 18 minutes) on both platforms', async () => {
    // The quick sentence over and over: the page sent it base64 in tRPC vad.detect, over the 32 MiB inline limit.
    const one = readFileSync(speechFixture('quick').path);
    const pcm = one.subarray(44);
    const target = 34 * 1024 * 1024;
    const data = Buffer.alloc(target - (target % pcm.length));
    for (let o = 0; o < data.length; o += pcm.length) pcm.copy(data, o);
    const header = Buffer.from(one.subarray(0, 44));
    header.writeUInt32LE(36 + data.length, 4);
    header.writeUInt32LE(data.length, 40);
    const wav = Buffer.concat([header, data]);
    expect(decodeWav(new Uint8Array(wav.subarray(0, 44 + 32000))).format.sampleRate).toBe(16000);
    const run = await upload(tempFile('long.wav', wav));
    expect(run.error).toBe('');
    expect(run.state).toBe('done');
    const r = run.result!;
    expect(r.input.bytes).toBe(wav.length);
    expect(r.server!.chunks).toBe(r.browser!.chunks);
    expect(r.server!.segments.length).toBe(r.browser!.segments.length);
    expect(r.server!.segments.length).toBeGreaterThanOrEqual(data.length / pcm.length);
    // Over ~34,000 chunks the recurrent state carries float32 differences further than on short files (measured
    // 1.19e-5 here; the VAD page's short fixtures stay under 1e-5).
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
  });
});

describe('parity page inputs that are not wire tensors', () => {
  beforeAll(async () => {
    // A new document: from / to /#parity alone is a same-page hash change, and the parity panel is installed on load.
    await page.goto('about:blank');
    await page.goto(`${server!.url}/#parity`);
    await page.waitForSelector('#parity[data-state="ready"]');
    await page.waitForFunction(() => (document.querySelector('#parity-variant') as HTMLSelectElement).options.length > 0);
    await page.selectOption('#parity-model', `${MODEL}@5.0.0`);
  });

  const expected = 'expected a JSON array of wire tensors [{ "name", "dtype", "shape", "data" }, ...] or { "inputs": [...] }';
  it.each([
    ['cut.json', '{"inputs": [', /^page: VALIDATION_FAILED: inputs file cut\.json is not JSON \(.+\); expected a JSON array of wire tensors/],
    ['empty.json', '', /^page: VALIDATION_FAILED: inputs file empty\.json is empty; expected/],
    ['null.json', 'null', /^page: VALIDATION_FAILED: inputs file null\.json holds null; expected/],
    ['other.json', '{"foo": 1}', /^page: VALIDATION_FAILED: inputs file other\.json holds an object with "foo" and no "inputs"; expected/],
    ['number.json', '5', /^page: VALIDATION_FAILED: inputs file number\.json holds the number 5; expected/],
    ['strings.json', '["a", "b"]', /^page: VALIDATION_FAILED: inputs file strings\.json: tensor 0 is the string "a", not an object; expected/],
  ])('%s: the error names the file and what was expected', async (name, text, message) => {
    const before = Number((await page.getAttribute('#parity', 'data-run')) ?? 0);
    await page.setInputFiles('#parity-inputs', tempFile(name, text));
    await page.waitForFunction((n) => Number(document.querySelector('#parity')!.getAttribute('data-run') ?? 0) > n, before, { timeout: 60_000 });
    expect(await page.getAttribute('#parity', 'data-state')).toBe('error');
    const status = (await page.textContent('#parity-status'))!;
    expect(status).toMatch(message);
    expect(status.endsWith(expected)).toBe(true);
  });

  it('had no uncaught error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
