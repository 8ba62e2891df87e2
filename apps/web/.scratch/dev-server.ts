import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { appRouter, type LeptonServices } from '@lepton/api';
import { createPredictor, detectSpeech, SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { ort, bundledModelPath } from '@lepton/node-platform';
import type { ModelRecord } from '@lepton/contracts';

const modelBytes = new Uint8Array(fs.readFileSync(bundledModelPath('silero-vad-v5')));
const sha = crypto.createHash('sha256').update(modelBytes).digest('hex');
const record: ModelRecord = {
  id: 'silero-vad-v5', name: 'Silero VAD v5', version: '5.0.0', task: 'vad', manifest: SILERO_VAD_V5_MANIFEST,
  variants: [{ id: 'fp32', precision: 'fp32', target: 'any', sha256: sha, size: modelBytes.length }], createdAt: new Date().toISOString(),
};
const predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: modelBytes, ort });
const services = {
  platform: 'server',
  models: { list: async () => [record], get: async () => record },
  inference: {
    infer: async () => { throw new Error('no'); },
    vadDetect: async (req: { wav: Uint8Array; options: object; includeProbabilities: boolean }) => {
      const t0 = performance.now();
      const r = await detectSpeech(predictor, req.wav, req.options);
      return { model: record.id, version: record.version, segments: r.segments, chunks: r.chunks, durationSec: r.durationSec, sampleRate: r.sampleRate,
        source: { sampleRate: r.source.sampleRate, channels: r.source.channels, encoding: r.source.encoding },
        probabilities: Array.from(r.probabilities), answeredBy: 'server', timings: { totalMs: performance.now() - t0, inferenceMs: r.inferenceMs } };
    },
  },
} as unknown as LeptonServices;
const trpc = createHTTPHandler({ router: appRouter, createContext: () => ({ services }), basePath: '/trpc/' });
const dist = path.resolve('apps/web/dist');
const ortDir = path.resolve('node_modules/onnxruntime-web/dist');
const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const srv = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  if (url.pathname.startsWith('/trpc/')) return trpc(req, res);
  if (url.pathname.startsWith('/api/v1/models/')) { res.setHeader('x-lepton-sha256', sha); return res.end(modelBytes); }
  const file = url.pathname.startsWith('/ort/') ? path.join(ortDir, path.basename(url.pathname)) : path.join(dist, url.pathname === '/' ? 'index.html' : url.pathname);
  if (!fs.existsSync(file)) { res.statusCode = 404; return res.end(); }
  res.setHeader('content-type', types[path.extname(file)] ?? 'application/octet-stream');
  res.end(fs.readFileSync(file));
});
srv.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  console.log(`Lepton server listening on http://127.0.0.1:${(srv.address() as { port: number }).port}`);
});
