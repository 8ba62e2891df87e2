import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, HeadlessBrowser, loadConfig, startServer, type StartedServer } from '@lepton/server';
import { conformanceManifest, fromWire, toWire, type PathRunner } from './paths';

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
 * decodeWireTensor -> predictor on onnxruntime-web (WASM) -> encodeWireTensor -> back here. Compared with raw
 * onnxruntime-web, test by test.
 */
export function leptonBrowserPath(): PathRunner {
  let server: StartedServer | undefined;
  let browser: HeadlessBrowser | undefined;
  const dirs: string[] = [];
  return {
    id: 'lepton-browser',
    label: 'Lepton: wire format -> predictor in headless Chromium (onnxruntime-web)',
    async start() {
      if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (Debian package chromium)`);
      const webDir = await buildWebApp();
      const dataDir = mkdtempSync(join(tmpdir(), 'lepton-conformance-browser-'));
      dirs.push(webDir, dataDir);
      server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: dataDir, LEPTON_WEB_DIR: webDir, LEPTON_LOG_LEVEL: 'silent' }));
      browser = await HeadlessBrowser.open(server.url);
    },
    async open({ key, model, dataSets }) {
      if (!server || !browser) throw new Error('the browser path did not start');
      await server.registry.register(conformanceManifest(key, model, dataSets[0]), [{ precision: 'fp32', target: 'any', source: model }]);
      const page = browser;
      return {
        async run(set, outputNames) {
          const res = await page.run({ model: key, version: '1', inputs: toWire(set), outputs: outputNames, release: true });
          if (!res.ok) throw new Error(`${res.error?.code}: ${res.error?.message}`);
          return fromWire(res.outputs ?? []);
        },
        release: () => Promise.resolve(),
      };
    },
    async close() {
      await browser?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
