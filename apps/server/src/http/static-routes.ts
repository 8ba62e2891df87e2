import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/** The built web app of this checkout (apps/web/dist), used when LEPTON_WEB_DIR is not set. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** onnxruntime-web's dist folder: its .wasm/.mjs files are what `ort.env.wasm.wasmPaths` points at. */
export function ortWebDistDir(): string {
  // The package's exports do not list package.json; its wasm files are exported, and sit in dist/.
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Lepton</title>
<h1>Lepton server</h1><p>The web app is not built. Run <code>npm start</code> (or <code>npx vite build</code> in apps/web).</p>
<p>API: <code>/trpc</code>, <code>POST /api/v1/vad/detect</code>, <code>/healthz</code>.</p>`;

/**
 * The web app at / (when built) and onnxruntime-web's runtime files at /ort/: browsers fetch the wasm from us,
 * never from a CDN (devices and tests have no internet).
 */
export async function staticRoutes(app: FastifyInstance, opts: { webDir: string | undefined }): Promise<{ webDir?: string }> {
  await app.register(fastifyStatic, {
    root: ortWebDistDir(),
    prefix: '/ort/',
    decorateReply: false,
    index: false,
    list: false,
    // Only the runtime's own files: its source maps and bundles for other hosts are not ours to serve.
    allowedPath: (pathName) => /^\/?[\w.-]+\.(wasm|mjs)$/.test(pathName),
  });
  const webDir = opts.webDir ?? DEFAULT_WEB_DIR;
  if (existsSync(join(webDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: webDir, prefix: '/', decorateReply: false, wildcard: true });
    return { webDir };
  }
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
  return {};
}
