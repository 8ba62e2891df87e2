import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { allocate, sizeOf, type DType, type Tensor } from '@lepton/tensor-core';
import { CHROMIUM_PATH, chromiumArgs, loadConfig, startServer, type StartedServer } from '@lepton/server';
import { SESSION_OPTIONS, type PathRunner } from './paths';
import { oneNodeModel } from './test-models';

/** A tensor as it crosses into and out of the raw page: raw little-endian element bytes (strings as text). */
interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes?: Uint8Array;
  strings?: string[];
}

/** What the raw page exposes on `globalThis.ortConformance` (the module script in PAGE below). */
interface RawPage {
  version: string;
  adapter(): Promise<{ ok: true; vendor: string; architecture: string } | { ok: false; reason: string }>;
  open(model: Uint8Array, options: object): Promise<number>;
  run(id: number, feeds: RawTensor[], outputNames: string[]): Promise<RawTensor[]>;
  release(id: number): Promise<void>;
}

/**
 * The page: onnxruntime-web's own bundle from the server's /ort/ (ort.min.mjs, the build with the WebGPU backend
 * that the web app bundles too), nothing else. Tensors arrive as bytes + dtype + shape, become `new ort.Tensor`,
 * and outputs leave as bytes (float16 as its bits, whichever typed array onnxruntime-web chose).
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>raw onnxruntime-web</title>
<script type="module">
import * as ort from '/ort/ort.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
const ARRAYS = { float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  bool: Uint8Array };
const sessions = new Map();
let next = 0;
globalThis.ortConformance = {
  version: ort.env.versions.web,
  async adapter() {
    if (!navigator.gpu) return { ok: false, reason: 'this browser has no navigator.gpu (WebGPU is off, or the page is not a secure context)' };
    const a = await navigator.gpu.requestAdapter();
    if (!a) return { ok: false, reason: 'navigator.gpu.requestAdapter() returned null (no usable GPU or software adapter)' };
    return { ok: true, vendor: a.info?.vendor ?? '', architecture: a.info?.architecture ?? '' };
  },
  async open(model, options) {
    const session = await ort.InferenceSession.create(model, options);
    sessions.set(++next, session);
    return next;
  },
  async run(id, feeds, outputNames) {
    const inputs = {};
    for (const f of feeds) {
      const A = ARRAYS[f.dtype];
      if (f.dtype !== 'string' && !A) throw new Error('the raw page has no typed array for dtype ' + f.dtype);
      const data = f.dtype === 'string' ? f.strings : new A(f.bytes.slice().buffer);
      inputs[f.name] = new ort.Tensor(f.dtype, data, f.shape);
    }
    const results = await sessions.get(id).run(inputs, outputNames);
    return outputNames.filter((n) => results[n]).map((n) => {
      const t = results[n];
      const d = t.data;
      return t.type === 'string'
        ? { name: n, dtype: t.type, shape: [...t.dims], strings: [...d] }
        : { name: n, dtype: t.type, shape: [...t.dims], bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice() };
    });
  },
  async release(id) {
    const session = sessions.get(id);
    sessions.delete(id);
    await session?.release();
  },
};
</script>`;

const PAGE_PATH = '/conformance/raw-ort-web.html';

/** Lepton tensor -> raw bytes for the page (a copy: the page gets its own buffer). */
function toRaw(name: string, t: Tensor): RawTensor {
  if (t.dtype === 'string') return { name, dtype: t.dtype, shape: [...t.shape], strings: [...(t.data as string[])] };
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return { name, dtype: t.dtype, shape: [...t.shape], bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice() };
}

/** Raw bytes from the page -> Lepton tensor with storage of its own. */
function fromRaw(r: RawTensor): Tensor {
  const dtype = r.dtype as DType;
  if (dtype === 'string') return { dtype, shape: r.shape, data: r.strings ?? [] };
  const data = allocate(dtype, sizeOf(r.shape)) as Exclude<Tensor['data'], string[]>;
  const target = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!r.bytes || r.bytes.byteLength !== target.byteLength) {
    throw new Error(`output '${r.name}' came back with ${r.bytes?.byteLength ?? 0} bytes; expected ${target.byteLength} for ${dtype} [${r.shape.join(', ')}]`);
  }
  target.set(r.bytes);
  return { dtype, shape: r.shape, data };
}

/** A playwright evaluate error as onnxruntime's message (the report keeps its first line). */
function pageMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^page\.evaluate: /, '').replace(/^Error: /, '');
}

/**
 * Raw onnxruntime-web on its WebGPU backend, inside headless Chromium (Node has no WebGPU): the same
 * TensorProto -> tensor decoding as every path, then the bytes go to a page on a Lepton server's origin (the
 * server only serves onnxruntime-web's files at /ort/; a page on localhost is a secure context, so it has
 * navigator.gpu), `new ort.Tensor`, `session.run`, bytes back. Nothing of Lepton's runs in the page. The bar
 * `lepton-browser-webgpu` is held to. `webgpu: false` launches Chromium without WebGPU (the path then cannot
 * start: WEBGPU_UNAVAILABLE).
 *
 * After a test whose session creation or run threw, the next test gets a freshly loaded page: onnxruntime-web
 * 1.30's WebGPU backend keeps a kernel marked as running when that kernel's attribute parsing throws (e.g.
 * AveragePool with ceil_mode), and every later kernel in the page then fails "is not allowed to be called
 * recursively". The failing test keeps its own error; the tests after it are not charged with it.
 */
export function ortWebWebgpuPath(opts: { webgpu?: boolean } = {}): PathRunner {
  let server: StartedServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let dataDir: string | undefined;
  let adapterName = '';
  let dirty = false;
  let reloads = 0;
  const options = { ...SESSION_OPTIONS, logSeverityLevel: 3, executionProviders: ['webgpu'] };

  /** Create a session in the page (its id there), or throw onnxruntime-web's message. */
  const create = async (p: Page, model: Uint8Array): Promise<number> => {
    try {
      // A plain Uint8Array copy: playwright sends typed arrays as bytes, but not a Node Buffer.
      const bytes = new Uint8Array(model);
      return await p.evaluate(([m, o]) => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.open(m, o), [bytes, options] as const);
    } catch (e) {
      throw new Error(pageMessage(e));
    }
  };
  const run = async (p: Page, id: number, feeds: RawTensor[], outputNames: string[]): Promise<RawTensor[]> => {
    try {
      return await p.evaluate(([i, f, n]) => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.run(i, f, n), [id, feeds, outputNames] as const);
    } catch (e) {
      throw new Error(pageMessage(e));
    }
  };

  /** (Re)load the page, check its adapter and pay the backend's one-time set-up with one Identity run. */
  const loadPage = async (p: Page, url: string): Promise<void> => {
    await p.goto(url);
    await p.waitForFunction(() => (globalThis as unknown as { ortConformance?: RawPage }).ortConformance !== undefined, undefined, { timeout: 60_000 });
    const adapter = await p.evaluate(() => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.adapter());
    if (!adapter.ok) throw new Error(`WEBGPU_UNAVAILABLE: ${adapter.reason}; expected a WebGPU adapter for path ort-web-webgpu`);
    adapterName = `${adapter.vendor}/${adapter.architecture}`;
    // A backend that cannot initialise stops the path here instead of failing every test.
    const id = await create(p, oneNodeModel('Identity', 1, [1]));
    await run(p, id, [toRaw('x', { dtype: 'float32', shape: [1], data: Float32Array.of(1) })], ['y']);
    await p.evaluate((i) => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.release(i), id);
  };

  const runner: PathRunner = {
    id: 'ort-web-webgpu',
    label: 'raw onnxruntime-web 1.30 (WebGPU, in headless Chromium)',
    async start() {
      if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH} (Debian package chromium)`);
      dataDir = mkdtempSync(join(tmpdir(), 'lepton-conformance-webgpu-'));
      // No web app (an empty web folder): the server is only the origin and the /ort/ file server here.
      server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: dataDir, LEPTON_WEB_DIR: dataDir, LEPTON_LOG_LEVEL: 'silent' }));
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: chromiumArgs({ webgpu: opts.webgpu }) });
      page = await browser.newPage();
      const url = `${server.url}${PAGE_PATH}`;
      await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }));
      await loadPage(page, url);
      const version = await page.evaluate(() => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.version);
      runner.runtime = `onnxruntime-web@${version} (webgpu, adapter ${adapterName})`;
    },
    async open({ model }) {
      if (!page || !server) throw new Error('the ort-web-webgpu path did not start');
      const p = page;
      if (dirty) {
        await loadPage(p, `${server.url}${PAGE_PATH}`);
        dirty = false;
        reloads++;
      }
      let id: number;
      try {
        id = await create(p, model);
      } catch (e) {
        dirty = true;
        throw e;
      }
      return {
        async run(set, outputNames) {
          try {
            const outputs = await run(p, id, set.inputs.map(({ name, tensor }) => toRaw(name, tensor)), outputNames);
            return Object.fromEntries(outputs.map((o) => [o.name, fromRaw(o)]));
          } catch (e) {
            dirty = true;
            throw e;
          }
        },
        release: () => p.evaluate((i) => (globalThis as unknown as { ortConformance: RawPage }).ortConformance.release(i), id),
      };
    },
    async close() {
      if (reloads > 0) runner.runtime += `; page reloaded after ${reloads} failed test(s)`;
      await browser?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return runner;
}
