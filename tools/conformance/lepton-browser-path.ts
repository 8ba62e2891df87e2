import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, HeadlessBrowser, loadConfig, startServer, type StartedServer } from '@lepton/server';
import { conformanceManifest, fromWire, toWire, type PathRunner } from './paths';
import { oneNodeModel } from './test-models';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `vite build` of apps/web into a temp folder, in its own process (production mode, like the web tests). */
export function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'lepton-conformance-web-'));
  const vite = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: join(REPO_ROOT, 'apps/web'),
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(outDir) : reject(new Error(`vite build exited ${code}: ${out.slice(-500)}`))));
  });
}

/**
 * Lepton's browser path: the test model is registered on a real server that serves the built web app; a
 * headless Chromium on that app runs it through the page's parity hook: wire tensors (JSON) -> the page's
 * decodeWireTensor -> predictor on onnxruntime-web -> encodeWireTensor -> back here. Compared with raw
 * onnxruntime-web, test by test. `executionProvider: 'webgpu'` is the path `lepton-browser-webgpu` (the hook's
 * WebGPU backend, platform browser-webgpu), held to `ort-web-webgpu`; it cannot start (WEBGPU_UNAVAILABLE) when
 * the page has no adapter, e.g. with `webgpu: false` (Chromium launched without WebGPU). On WebGPU, a failed
 * test is followed by a fresh browser, for the reason `ort-web-webgpu` reloads its page (ort-web-webgpu-path.ts):
 * one kernel that throws can leave onnxruntime-web's WebGPU backend unusable for the rest of the page's life.
 */
export function leptonBrowserPath(opts: { executionProvider?: 'wasm' | 'webgpu'; webgpu?: boolean } = {}): PathRunner {
  const ep = opts.executionProvider ?? 'wasm';
  let server: StartedServer | undefined;
  let browser: HeadlessBrowser | undefined;
  const dirs: string[] = [];
  let dirty = false;
  let reopened = 0;
  const openBrowser = (url: string) => HeadlessBrowser.open(url, { ...(opts.webgpu !== undefined ? { webgpu: opts.webgpu } : {}) });
  const runner: PathRunner = {
    id: ep === 'webgpu' ? 'lepton-browser-webgpu' : 'lepton-browser',
    label: `Lepton: wire format -> predictor in headless Chromium (onnxruntime-web, ${ep})`,
    async start() {
      if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (Debian package chromium)`);
      const webDir = await buildWebApp();
      const dataDir = mkdtempSync(join(tmpdir(), 'lepton-conformance-browser-'));
      dirs.push(webDir, dataDir);
      server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: dataDir, LEPTON_WEB_DIR: webDir, LEPTON_LOG_LEVEL: 'silent' }));
      browser = await openBrowser(server.url);
      if (ep === 'webgpu') runner.runtime = await probeWebgpu(server, browser);
    },
    async open({ key, model, dataSets }) {
      if (!server || !browser) throw new Error('the browser path did not start');
      if (dirty) {
        await browser.close().catch(() => undefined);
        browser = await openBrowser(server.url);
        dirty = false;
        reopened++;
      }
      await server.registry.register(conformanceManifest(key, model, dataSets[0]), [{ precision: 'fp32', target: 'any', source: model }]);
      const page = browser;
      return {
        async run(set, outputNames) {
          try {
            const res = await page.run({ model: key, version: '1', inputs: toWire(set), outputs: outputNames, release: true, executionProvider: ep });
            if (!res.ok) throw new Error(`${res.error?.code}: ${res.error?.message}`);
            return fromWire(res.outputs ?? []);
          } catch (e) {
            if (ep === 'webgpu') dirty = true;
            throw e;
          }
        },
        release: () => Promise.resolve(),
      };
    },
    async close() {
      if (reopened > 0) runner.runtime += `; browser reopened after ${reopened} failed test(s)`;
      await browser?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return runner;
}

/**
 * One run of a one-node Identity model through the hook on WebGPU before any test: a page without an adapter
 * answers WEBGPU_UNAVAILABLE, and the path does not start (instead of failing every test with that code).
 * Returns the runtime the page reports (onnxruntime-web version and adapter).
 */
async function probeWebgpu(server: StartedServer, browser: HeadlessBrowser): Promise<string> {
  const model = oneNodeModel('Identity', 1, [1]);
  const key = 'conformance-webgpu-probe';
  await server.registry.register(conformanceManifest(key, model, undefined), [{ precision: 'fp32', target: 'any', source: model }]);
  const x = { name: 'x', tensor: { dtype: 'float32' as const, shape: [1], data: Float32Array.of(1) } };
  const res = await browser.run({ model: key, version: '1', inputs: toWire({ name: 'probe', inputs: [x], outputs: [] }), outputs: ['y'], release: true, executionProvider: 'webgpu' });
  if (!res.ok) throw new Error(`${res.error?.code}: ${res.error?.message}`);
  return res.runtime ?? 'onnxruntime-web (webgpu)';
}
