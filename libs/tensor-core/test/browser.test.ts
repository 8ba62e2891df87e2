import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKernels } from './browser/entry';

// tensor-core promises identical bytes on every platform: the same entry runs in Debian's Chromium (headless,
// via playwright-core) and here in Node, and each kernel's output must hash the same.

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser/entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'tensorCoreEntry',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@lepton/source'],
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('same bytes in Chromium and Node', () => {
  it('every kernel output hashes identically', async () => {
    const page = await browser.newPage();
    await page.addScriptTag({ content: bundle });
    // Bytes cross the boundary as base64 (arrays of numbers are far too slow for the cast matrix's megabytes);
    // hashing happens in Node for both sides.
    const fromBrowser = await page.evaluate(() => {
      const g = globalThis as unknown as { tensorCoreEntry: { runKernels(): Record<string, Uint8Array> } };
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(g.tensorCoreEntry.runKernels())) {
        let bin = '';
        for (let i = 0; i < v.length; i += 0x8000) bin += String.fromCharCode(...v.subarray(i, i + 0x8000));
        out[k] = btoa(bin);
      }
      return { out, ua: navigator.userAgent };
    });
    await page.close();
    expect(fromBrowser.ua).toMatch(/Chrome/);
    const node = runKernels();
    expect(Object.keys(fromBrowser.out).sort()).toEqual(Object.keys(node).sort());
    expect(Object.keys(node).length).toBeGreaterThanOrEqual(20);
    expect(node['simd']).toEqual(Uint8Array.of(1));
    expect(node['resizeWasm']).toEqual(Uint8Array.of(1, 1));
    expect(node['resizeLinearScalar']).toEqual(node['resizeLinear']);
    expect(node['resizeLinearPlain']).toEqual(node['resizeLinear']);
    for (const [name, b] of Object.entries(node)) {
      expect(b.length, name).toBeGreaterThan(0);
      expect(sha256(Buffer.from(fromBrowser.out[name]!, 'base64')), name).toBe(sha256(b));
    }
  });
});
