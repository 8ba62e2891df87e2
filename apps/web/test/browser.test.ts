import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
// The test runs in Node and drives the browser; real audio comes from the shared test fixtures.
import { ALSA_NOISE, cutWav, speechFixture } from '@lepton/test-fixtures';
import type { RunResult } from '../src/vad-view';
import { buildWebApp, launchChromium, startServer, tearDown, type RunningServer } from './harness';

/**
 * The real page in a real headless Chromium against the real server: the same WAV runs through onnxruntime-web in
 * the page and onnxruntime-node on the server, and the two must agree chunk by chunk.
 */
describe('web app in Chromium', () => {
  let webDir: string | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    webDir = await buildWebApp();
    server = await startServer(webDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
  }, 180_000);

  afterAll(() => tearDown(browser, server, webDir), 30_000);

  /** Upload one file and wait for the run it starts to finish. */
  function upload(path: string): Promise<{ state: string; result: RunResult; error: string }> {
    return finishedRun(() => page.setInputFiles('#wav-file', path));
  }

  /** Start a run with `action` and wait for it to finish (data-run counts finished runs). */
  async function finishedRun(action: () => Promise<void>): Promise<{ state: string; result: RunResult; error: string }> {
    const before = Number(await page.getAttribute('#app', 'data-run'));
    await action();
    await page.waitForFunction((n) => Number(document.querySelector('#app')!.getAttribute('data-run')) > n, before, {
      timeout: 120_000,
    });
    const state = (await page.getAttribute('#app', 'data-state'))!;
    const result = JSON.parse((await page.textContent('#result-json'))!) as RunResult;
    const error = (await page.textContent('#error')) ?? '';
    return { state, result, error };
  }

  /**
   * A benchmark note, not an assertion: timings on a shared 2-core machine are noise. 'first' is the page's first
   * run after the predictor's warm-up, 'later' a run of the same file after a few others.
   */
  function logLatency(label: string, result: RunResult): void {
    const b = result.browser!;
    const s = result.server!;
    console.log(
      `[web] ${label} ${result.input.name} ${b.chunks} chunks: browser ${b.ms.toFixed(1)} ms (${b.msPerChunk!.toFixed(3)} ms/chunk), ` +
        `server ${s.ms.toFixed(1)} ms (${s.msPerChunk!.toFixed(3)} ms/chunk), ` +
        `browser/server per-chunk ratio ${(b.msPerChunk! / s.msPerChunk!).toFixed(2)}, maxAbsDiff ${result.maxAbsDiff}`,
    );
  }

  it('lists the bundled Silero VAD model', async () => {
    const row = page.locator('#model-list tr[data-model-id="silero-vad-v5"]');
    await expect(row.count()).resolves.toBe(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('silero-vad-v5');
    expect(cells[3]).toBe('vad');
    expect(await page.inputValue('#model-select')).toMatch(/^silero-vad-v5@/);
  });

  it('finds the same speech with the same per-chunk probabilities in the browser and on the server', async () => {
    const fixture = speechFixture('quick');
    const { state, result, error } = await upload(fixture.path);
    expect(error, pageErrors.join('\n')).toBe('');
    expect(state).toBe('done');
    const b = result.browser!;
    const s = result.server!;
    expect(b.chunks).toBeGreaterThan(50);
    expect(b.chunks).toBe(s.chunks);
    expect(b.probabilities.length).toBe(b.chunks);
    expect(s.probabilities.length).toBe(s.chunks);
    for (let i = 0; i < b.chunks; i++) {
      if (Math.abs(b.probabilities[i]! - s.probabilities[i]!) > 1e-5) {
        expect.fail(`chunk ${i}: browser ${b.probabilities[i]} vs server ${s.probabilities[i]} differ by more than 1e-5`);
      }
    }
    expect(result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(b.segments.length).toBeGreaterThan(0);
    expect(b.segments.length).toBe(s.segments.length);
    b.segments.forEach((seg, i) => {
      expect(seg.start).toBeCloseTo(s.segments[i]!.start, 9);
      expect(seg.end).toBeCloseTo(s.segments[i]!.end, 9);
    });
    expect(Math.abs(b.segments[0]!.start - fixture.speechStart)).toBeLessThanOrEqual(0.15);

    await page.screenshot({ path: '/tmp/lepton-web.png', fullPage: true });
    logLatency('first', result);
  });

  it('finds no speech in the ALSA noise file on either platform', async () => {
    const { state, result } = await upload(ALSA_NOISE);
    expect(state).toBe('done');
    expect(result.browser!.segments).toEqual([]);
    expect(result.server!.segments).toEqual([]);
    expect(result.browser!.chunks).toBe(result.server!.chunks);
    expect(result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  });

  it('shows WAV_INVALID for a file that is not a WAV, then still analyses a good file', async () => {
    const bogus = join(tmpdir(), 'lepton-web-not-a-wav.txt');
    writeFileSync(bogus, 'this is plain text, not a RIFF/WAVE file\n'.repeat(4));
    const bad = await upload(bogus);
    rmSync(bogus, { force: true });
    expect(bad.state).toBe('error');
    expect(bad.error).toContain('WAV_INVALID');
    expect(await page.isVisible('#error')).toBe(true);
    await page.screenshot({ path: '/tmp/lepton-web-error.png' });
    expect(bad.result.errors.map((e) => [e.platform, e.code])).toEqual([
      ['browser', 'WAV_INVALID'],
      ['server', 'WAV_INVALID'],
    ]);

    const good = await upload(speechFixture('quick').path);
    expect(good.state).toBe('done');
    expect(await page.isVisible('#error')).toBe(false);
    expect(good.result.browser!.segments.length).toBeGreaterThan(0);
    expect(good.result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    logLatency('later', good.result);
  });

  it('shows a cut file\'s WAV_TRUNCATED warning next to the segments of both platforms; none for a complete file', async () => {
    // 2 s of the 16 kHz 16-bit quick fixture, its header still declaring the whole file.
    const cut = cutWav(new Uint8Array(readFileSync(speechFixture('quick').path)), 64000);
    const path = join(tmpdir(), 'lepton-web-cut.wav');
    writeFileSync(path, cut.bytes);
    const { state, result, error } = await upload(path);
    rmSync(path, { force: true });
    expect(error, pageErrors.join('\n')).toBe('');
    expect(state).toBe('done');
    const message = `WAV data chunk declares ${cut.declaredBytes} bytes, the file holds 64000; read 64000 (the file looks cut short)`;
    const warnings = [{ code: 'WAV_TRUNCATED', message, details: { declaredBytes: cut.declaredBytes, readBytes: 64000 } }];
    expect(result.browser!.warnings).toEqual(warnings);
    expect(result.server!.warnings).toEqual(warnings);
    expect(result.browser!.durationSec).toBe(2);
    expect(result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    for (const panel of ['#browser-panel', '#server-panel']) {
      expect(await page.locator(`${panel} .warning`).allTextContents()).toEqual([`Warning WAV_TRUNCATED: ${message}`]);
      // Shown before the segments table it qualifies.
      expect(await page.locator(`${panel} .warning + table.segments`).count()).toBe(1);
    }
    await page.screenshot({ path: '/tmp/lepton-web-cut.png', fullPage: true });

    const good = await upload(speechFixture('quick').path);
    expect(good.state).toBe('done');
    expect('warnings' in good.result.browser!).toBe(false);
    expect('warnings' in good.result.server!).toBe(false);
    expect(await page.locator('.panel .warning').count()).toBe(0);
  });

  it('records from the microphone, encodes a WAV in the page and analyses it on both platforms', async () => {
    await page.click('#record');
    await page.waitForFunction(() => document.querySelector('#record')!.textContent!.startsWith('Stop'));
    // Let about two seconds of the fake device's tone accumulate; what is asserted below is parity, not timing.
    await page.waitForTimeout(2_000);
    const { state, result, error } = await finishedRun(() => page.click('#record'));
    expect(error, pageErrors.join('\n')).toBe('');
    expect(state).toBe('done');
    expect(result.input.name).toMatch(/^microphone-\d+Hz\.wav$/);
    expect(result.browser!.chunks).toBeGreaterThan(20);
    expect(result.browser!.chunks).toBe(result.server!.chunks);
    expect(result.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(result.browser!.segments.length).toBe(result.server!.segments.length);
  });
});
