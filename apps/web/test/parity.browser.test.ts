import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { Browser, Page } from 'playwright-core';
import type { AppRouter, ParityReport } from '@lepton/api';
import type { ModelRecord, Variant } from '@lepton/contracts';
import { buildWebApp, launchChromium, startServer, tearDown, type RunningServer } from './harness';

/**
 * The parity page (/#parity) in Chromium against a real server that builds the bundled Silero VAD's variants at
 * start (LEPTON_BUILD_VARIANTS=1: fp16-web and int8-edge): the page lists them, runs the chosen one in the page
 * (onnxruntime-web) and on the server (onnxruntime-node), and shows which artifact each platform ran and the
 * tolerance it was judged by. Every number asserted is read from the page's DOM.
 */
const MODEL = 'silero-vad-v5';
const WAV = '/usr/share/sounds/alsa/Front_Center.wav';

let webDir: string | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;
let page: Page;
let record: ModelRecord;
let int8: Variant;
let fp32: Variant;
let adminKey = '';
const pageErrors: string[] = [];

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, tries = 900): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  webDir = await buildWebApp();
  server = await startServer(webDir, 90_000, { LEPTON_BUILD_VARIANTS: '1' });
  adminKey = /Admin API key: (\S+)/.exec(server.output())![1]!;
  const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc` })] });
  record = await eventually('the int8-edge and fp16-web builds', async () => {
    const r = await api.models.get.query({ id: MODEL });
    return r.variants.some((v) => v.id === 'int8-edge') && r.variants.some((v) => v.id === 'fp16-web') ? r : undefined;
  });
  int8 = record.variants.find((v) => v.id === 'int8-edge')!;
  fp32 = record.variants.find((v) => v.id === 'fp32')!;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}/#parity`);
  await page.waitForSelector(`#parity-model option[value="${MODEL}@${record.version}"]`, { state: 'attached' });
  await page.selectOption('#parity-model', `${MODEL}@${record.version}`);
  await page.waitForSelector('#parity-variant option[value="int8-edge"]', { state: 'attached' });
}, 300_000);

afterAll(() => tearDown(browser, server, webDir), 30_000);

const texts = (sel: string) => page.$$eval(sel, (els) => els.map((e) => e.textContent ?? ''));

/** One row of a report table, by data-platform: its cells' text, and the artifact cell's full sha256 (title). */
async function row(table: string, platform: string): Promise<{ cells: string[]; artifact: string | null }> {
  return page.$eval(`${table} tr[data-platform="${platform}"]`, (tr) => ({
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
    artifact: tr.querySelector('td.artifact code')?.getAttribute('title') ?? null,
  }));
}

async function runAndWait(start: () => Promise<void>): Promise<ParityReport> {
  const before = Number((await page.getAttribute('#parity', 'data-run')) ?? '0');
  await start();
  await page.waitForFunction((n) => Number(document.querySelector('#parity')!.getAttribute('data-run') ?? '0') > n, before, { timeout: 120_000 });
  expect(await page.getAttribute('#parity', 'data-state'), (await page.textContent('#parity-status')) ?? '').toBe('done');
  return JSON.parse((await page.textContent('#parity-json'))!) as ParityReport;
}

describe('the parity page with variants', () => {
  it('lists fp32 (default) and each built variant with precision, target, size and sha256 prefix', async () => {
    const options = await page.$$eval('#parity-variant option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    expect(options.map(([v]) => v)).toEqual(['', 'fp16-web', 'int8-edge']);
    expect(options[0]![1]).toBe(`fp32 (default): fp32 (fp32, any, ${(fp32.size / 1024 / 1024).toFixed(1)} MiB, ${fp32.sha256.slice(0, 8)})`);
    expect(options[2]![1]).toBe(`int8-edge (int8, edge, ${(int8.size / 1024).toFixed(1)} KiB, ${int8.sha256.slice(0, 8)})`);
    // compare-with-fp32 is off for the fp32 model itself.
    expect(await page.isDisabled('#parity-fp32')).toBe(true);
  });

  it('says which platforms the page runs: browser and server, edge only with a URL, never local', async () => {
    const runs = () => page.$$eval('#parity-platforms li', (lis) => lis.map((li) => `${(li as HTMLElement).dataset['platform']}:${(li as HTMLElement).dataset['runs']}`));
    expect(await runs()).toEqual(['browser:yes', 'browser-webgpu:no', 'server:yes', 'edge:no', 'local:no']);
    expect(await page.textContent('#parity-platforms li[data-platform="local"]')).toContain("'local' is the CLI's own process");
    await page.check('#parity-edge');
    expect(await runs()).toEqual(['browser:yes', 'browser-webgpu:no', 'server:yes', 'edge:yes', 'local:no']);
    expect(await page.textContent('#parity-platforms li[data-platform="edge"]')).toBe('edge: runs, the agent at http://127.0.0.1:8081, called by the server');
    await page.uncheck('#parity-edge');
    // The hook refuses 'local' with a typed error instead of pretending to run it.
    const refused = await page.evaluate((m) => window.leptonParity!.compare({ model: m, platforms: ['local' as 'server'] }).then(() => 'ran', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`), MODEL);
    expect(refused).toMatch(/^NOT_IMPLEMENTED: platform "local" cannot run from the parity page; expected server or edge/);
  });

  it('runs int8-edge in the page and on the server: the int8 artifact on both, a pass within the int8 tolerance', async () => {
    await page.selectOption('#parity-variant', 'int8-edge');
    expect(await page.isDisabled('#parity-fp32')).toBe(false);
    await page.check('#parity-fp32');
    const report = await runAndWait(() => page.setInputFiles('#parity-inputs', WAV));
    expect(await page.textContent('#parity-status')).toBe('All platforms agree within the stated tolerances.');
    expect(await page.textContent('#parity-variant-ran')).toBe(`variant int8-edge (int8/edge), sha256 ${int8.sha256.slice(0, 12)}`);
    expect(await page.textContent('#parity-tolerance')).toBe('float32/int8: rtol 0.05, atol 0.01');
    expect(await page.textContent('#parity-artifacts')).toBe('artifacts identical');
    for (const platform of ['server', 'browser']) {
      const r = await row('#parity-platform-table', platform);
      expect(r.artifact, platform).toBe(int8.sha256);
      expect(r.cells[3], platform).toBe(`${int8.sha256.slice(0, 12)} (int8-edge)`);
      expect(r.cells[5], platform).toBe('ok');
    }
    // The browser against the server, same int8 artifact: numbers from the table.
    const c = (await row('#parity-outputs', 'browser')).cells;
    const [count, maxAbs] = [Number(c[2]), Number(c[3])];
    expect(c.slice(0, 2)).toEqual(['probabilities', 'browser']);
    expect(count).toBe(report.platforms.find((p) => p.platform === 'server')!.steps);
    expect(count).toBeGreaterThan(40); // Front_Center.wav is ~1.5 s: 16 kHz / 512-sample chunks
    expect(c[8]).toBe('float32/int8: rtol 0.05, atol 0.01');
    expect(c[9]).toBe('pass');
    // Probabilities are in [0, 1]: within the int8 tolerance means |d| <= atol + rtol.
    expect(maxAbs).toBeGreaterThanOrEqual(0);
    expect(maxAbs).toBeLessThanOrEqual(0.01 + 0.05);
    // The page shows the report's own numbers (3 significant digits).
    const inReport = report.outputs[0]!.comparisons.find((x) => x.platform === 'browser')!;
    expect(c[3]).toBe(inReport.maxAbs === 0 ? '0' : inReport.maxAbs!.toPrecision(3));
    // What int8 costs against fp32, on both platforms: measured, not zero.
    const fp32Rows = await texts('#parity-vs-fp32 tbody tr td:nth-child(2)');
    expect(fp32Rows).toEqual(['server', 'browser']);
    expect(await page.$eval('#parity-report h3 code', (e) => e.getAttribute('title'))).toBe(fp32.sha256);
    const vsFp32 = await Promise.all(['server', 'browser'].map(async (p) => Number((await row('#parity-vs-fp32', p)).cells[2])));
    for (const d of vsFp32) expect(d).toBeGreaterThan(0);
    console.log(`[web parity] int8-edge on ${WAV.split('/').pop()} (${count} chunks): browser vs server max|d| ${c[3]}, max rel ${c[4]}; vs fp32 max|d| server ${vsFp32[0]}, browser ${vsFp32[1]}`);
  });

  it('runs the same file again on the fp32 default: the fp32 artifact on both, the fp32 tolerance, no fp32 table', async () => {
    await page.selectOption('#parity-variant', '');
    expect(await page.isDisabled('#parity-fp32')).toBe(true);
    await runAndWait(() => page.click('#parity-run'));
    expect(await page.textContent('#parity-variant-ran')).toBe(`variant fp32 (fp32/any), sha256 ${fp32.sha256.slice(0, 12)}`);
    expect(await page.textContent('#parity-tolerance')).toBe('float32/fp32: rtol 0.0001, atol 0.00001');
    for (const platform of ['server', 'browser']) expect((await row('#parity-platform-table', platform)).artifact, platform).toBe(fp32.sha256);
    const c = (await row('#parity-outputs', 'browser')).cells;
    expect(c[9]).toBe('pass');
    expect(Number(c[3])).toBeLessThanOrEqual(1e-5 + 1e-4);
    expect(await page.$('#parity-vs-fp32')).toBeNull();
    console.log(`[web parity] fp32 on ${WAV.split('/').pop()}: browser vs server max|d| ${c[3]}, max rel ${c[4]}`);
    expect(pageErrors).toEqual([]);
  });

  it('with "also run this page on WebGPU" ticked: browser-webgpu runs the fp32 artifact and agrees within the fp32 tolerance', async () => {
    expect(await page.isDisabled('#parity-webgpu')).toBe(false);
    await page.check('#parity-webgpu');
    expect(await page.textContent('#parity-platforms li[data-platform="browser-webgpu"]')).toBe("browser-webgpu: runs, this page on onnxruntime-web's WebGPU backend");
    const report = await runAndWait(() => page.click('#parity-run'));
    expect(report.platforms.map((r) => `${r.platform}:${r.ok ? 'ok' : r.error?.message}`)).toEqual(['server:ok', 'browser:ok', 'browser-webgpu:ok']);
    const gpu = report.platforms.find((r) => r.platform === 'browser-webgpu')!;
    expect(gpu.executionProvider).toBe('webgpu');
    expect(gpu.runtime).toMatch(/\(webgpu, adapter google\/swiftshader/);
    expect(gpu.artifactSha256).toBe(fp32.sha256);
    expect(report.preprocessing.identical).toBe(true);
    expect(report.pass).toBe(true);
    const c = (await row('#parity-outputs', 'browser-webgpu')).cells;
    expect(c[9]).toBe('pass');
    console.log(`[web parity] fp32 on WebGPU (SwiftShader): browser-webgpu vs server max|d| ${c[3]}, max rel ${c[4]}`);
    await page.uncheck('#parity-webgpu');
    expect(pageErrors).toEqual([]);
  });

  it('shows the variant build jobs on the main page with the admin key (the shared key panel)', async () => {
    const main = await browser!.newPage();
    await main.goto(`${server!.url}/`);
    await main.fill('#variants-key', adminKey);
    await main.click('#variants-auth button');
    await main.waitForSelector('#variants[data-state="ready"]');
    expect(await main.textContent('#variants-status')).toMatch(/^2 jobs; updated /);
    const rows = await main.$$eval('#variant-jobs tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 3).map((td) => td.textContent)));
    expect(rows).toEqual([
      ['web', 'fp16'],
      ['edge', 'int8-weight'],
    ]);
    // The key is kept for the tab: a reload shows the jobs without typing it again.
    await main.reload();
    await main.waitForSelector('#variants[data-state="ready"]');
    expect(await main.inputValue('#variants-key')).toBe(adminKey);
    await main.close();
  });
});
