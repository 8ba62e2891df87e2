import type { Browser, Page } from 'playwright-core';
import type { ParityRunInput } from '@lepton/api';

/** What the web app's parity hook accepts (apps/web/src/parity-browser.ts BrowserRunRequest). */
export interface BrowserRunRequest {
  model: string;
  version?: string;
  /** Variant id to run (default: the page's own web choice). */
  variant?: string;
  inputs?: unknown[];
  wav?: string;
  outputs?: string[];
  release?: boolean;
  /** onnxruntime-web backend: 'wasm' (default) or 'webgpu' (the parity platform 'browser-webgpu'). */
  executionProvider?: 'wasm' | 'webgpu';
}

/** Debian's Chromium, never a downloaded browser (DESIGN.md flags). */
export const CHROMIUM_PATH = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/**
 * Chromium on Linux offers WebGPU only behind this flag; headless, with no GPU (or with --disable-gpu), its adapter
 * is Dawn on SwiftShader: WebGPU's shaders run on the CPU, so the platform 'browser-webgpu' checks onnxruntime-web's
 * WebGPU kernels (their numerics, not their speed) on any machine.
 */
const WEBGPU_FLAG = '--enable-unsafe-webgpu';

/** The command-line flags HeadlessBrowser launches Chromium with (also for pages outside the web app, e.g. the conformance runner's raw onnxruntime-web page). */
export function chromiumArgs(options: { webgpu?: boolean } = {}): string[] {
  return options.webgpu === false ? [...FLAGS] : [...FLAGS, WEBGPU_FLAG];
}

export interface HeadlessBrowserOptions {
  timeoutMs?: number;
  /** Offer WebGPU to the page (default true). Off, a 'webgpu' run fails with WEBGPU_UNAVAILABLE. */
  webgpu?: boolean;
}

/**
 * A headless Chromium with one page on a Lepton server's web app, driven through the page's
 * `window.leptonParity` hook: the browser platform of parity runs and of the conformance runner.
 */
export class HeadlessBrowser {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  /** Launch and open `${baseUrl}/` (the server must serve a built web app, LEPTON_WEB_DIR). */
  static async open(baseUrl: string, options: HeadlessBrowserOptions = {}): Promise<HeadlessBrowser> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    // Loaded on the first browser parity run, not at server start (playwright-core is ~270 ms of startup).
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs(options) });
    try {
      const page = await browser.newPage();
      await page.goto(`${baseUrl.replace(/\/+$/, '')}/`, { timeout: timeoutMs });
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).leptonParity !== undefined, undefined, { timeout: timeoutMs });
      return new HeadlessBrowser(browser, page);
    } catch (err) {
      await browser.close();
      throw new Error(`the web app at ${baseUrl}/ did not offer the parity hook (is it built and served? LEPTON_WEB_DIR): ${(err as Error).message.split('\n')[0]}`);
    }
  }

  run(req: BrowserRunRequest): Promise<ParityRunInput> {
    return this.page.evaluate((r) => (globalThis as unknown as PageGlobals).leptonParity!.runInBrowser(r), req);
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

/** The page's globals as seen from here (the server compiles without DOM types). */
interface PageGlobals {
  leptonParity?: { runInBrowser(req: BrowserRunRequest): Promise<ParityRunInput> };
}
