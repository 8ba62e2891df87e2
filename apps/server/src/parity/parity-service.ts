import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink } from '@trpc/client';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { decodeBase64, decodeWireTensor, encodeWireTensor, type ModelRecord } from '@lepton/contracts';
import { createPredictor, detectSpeech, type OrtModule, type Predictor } from '@lepton/runtime';
import {
  buildParityReport,
  feedsCanonicalBytes,
  manifestFromModel,
  recordFeeds,
  type AppRouter,
  type InferenceService,
  type ParityCall,
  type ParityPlatform,
  type ParityReport,
  type ParityRunInput,
  type ParityService,
} from '@lepton/api';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelRegistry } from '../registry/model-registry';
import { HeadlessBrowser } from './headless-browser';

export interface ServerParityOptions {
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  inference: InferenceService;
  ort: OrtModule;
  /** This server's own base URL (for the browser platform, which loads the web app from it). */
  selfUrl: () => string;
  /** onnxruntime-node's version, shown in reports. */
  ortVersion?: string;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * parity.run on the server: 'server' is this process (generic models through the real `infer`, VAD files
 * through the manifest's pipeline), 'edge' an agent's infer/vad.detect at `edgeUrl`, 'browser' a headless
 * Chromium on this server's own web app. 'local' is the caller's own process, so callers provide it.
 */
export class ServerParity implements ParityService {
  private readonly vadPredictors = new Map<string, Promise<Predictor>>();

  constructor(private readonly opts: ServerParityOptions) {}

  async run(req: ParityCall): Promise<ParityReport> {
    const record = req.modelBytes !== undefined ? await this.registerUpload(req.model, decodeBase64(req.modelBytes)) : await this.opts.registry.get(req.model, req.version);
    if (req.wav !== undefined && record.task !== 'vad') {
      throw new LeptonError('MODEL_NOT_VAD', `model ${record.id}@${record.version} is a ${record.task} model; a WAV input needs a vad model`);
    }
    if (req.wav === undefined && req.inputs.length === 0 && record.manifest.inputs.length > 0) {
      throw new LeptonError('INPUT_MISSING', `parity.run for ${record.id}@${record.version} needs inputs (wire tensors) or a wav`);
    }
    const provided = new Set(req.provided.map((p) => p.platform));
    const runs: ParityRunInput[] = [...req.provided];
    for (const platform of req.platforms) {
      if (provided.has(platform)) continue;
      runs.push(await this.runOn(platform, record, req));
    }
    // Report in the order the caller listed the platforms (the first is the default reference).
    const order = (p: ParityPlatform) => (req.platforms.includes(p) ? req.platforms.indexOf(p) : req.platforms.length);
    runs.sort((a, b) => order(a.platform) - order(b.platform));
    return buildParityReport({ model: record.id, version: record.version, precision: 'fp32', runs, ...(req.reference ? { reference: req.reference } : {}) });
  }

  /** Register an uploaded model file under a generic manifest (temporary in spirit; content-addressed id). */
  private async registerUpload(name: string, bytes: Uint8Array): Promise<ModelRecord> {
    const digest = sha256Hex(bytes).slice(0, 12);
    const manifest = manifestFromModel(bytes, { id: `parity-${digest}`, version: digest, name });
    const { record } = await this.opts.registry.register(manifest, [{ precision: 'fp32', target: 'any', source: bytes }]);
    return record;
  }

  async close(): Promise<void> {
    const loaded = [...this.vadPredictors.values()];
    this.vadPredictors.clear();
    await Promise.all(loaded.map((p) => p.then((x) => x.release()).catch(() => undefined)));
  }

  private async runOn(platform: ParityPlatform, record: ModelRecord, req: ParityCall): Promise<ParityRunInput> {
    try {
      switch (platform) {
        case 'server':
          return await this.runServer(record, req);
        case 'edge':
          return await runEdge(record, req);
        case 'browser':
          return await this.runBrowser(record, req);
        case 'local':
          throw new LeptonError('NOT_IMPLEMENTED', "platform 'local' is the caller's own process: run it there and pass it in `provided` (lepton parity does)");
      }
    } catch (err) {
      const code = isLeptonError(err) ? err.code : 'INTERNAL';
      return { platform, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } };
    }
  }

  private async runServer(record: ModelRecord, req: ParityCall): Promise<ParityRunInput> {
    const base = {
      platform: 'server' as const,
      runtime: `onnxruntime-node@${this.opts.ortVersion ?? '1.30'} (cpu)`,
      executionProvider: 'cpu',
      sessionOptions: record.manifest.sessionOptions,
      answeredBy: 'server',
    };
    if (req.wav !== undefined) {
      const { predictor, calls } = recordFeeds(await this.vadPredictor(record));
      const t0 = performance.now();
      const run = await detectSpeech(predictor, decodeBase64(req.wav));
      const probabilities = { dtype: 'float32' as const, shape: [run.probabilities.length], data: Float32Array.from(run.probabilities) };
      return { ...base, ok: true, outputs: [encodeWireTensor('probabilities', probabilities)], feedsSha256: sha256Hex(feedsCanonicalBytes(calls)), steps: calls.length, inferenceMs: performance.now() - t0 };
    }
    // The real infer path; the digest is of the very decode infer performs on the same wire tensors.
    const feeds = Object.fromEntries(req.inputs.map((w) => [w.name, decodeWireTensor(w)] as const));
    const res = await this.opts.inference.infer({ model: record.id, version: record.version, inputs: req.inputs, format: 'base64' });
    return { ...base, ok: true, outputs: res.outputs, feedsSha256: sha256Hex(feedsCanonicalBytes([feeds])), steps: 1, inferenceMs: res.timings.inferenceMs, answeredBy: res.answeredBy };
  }

  private vadPredictor(record: ModelRecord): Promise<Predictor> {
    const key = `${record.id}@${record.version}`;
    let pending = this.vadPredictors.get(key);
    if (!pending) {
      pending = (async () => {
        const { variant } = await this.opts.registry.resolveVariant(record.id, { version: record.version, precision: 'fp32', target: 'server' });
        return createPredictor({ manifest: record.manifest, model: await this.opts.artifacts.read(variant.sha256), ort: this.opts.ort });
      })();
      pending.catch(() => this.vadPredictors.delete(key));
      this.vadPredictors.set(key, pending);
    }
    return pending;
  }

  private async runBrowser(record: ModelRecord, req: ParityCall): Promise<ParityRunInput> {
    const browser = await HeadlessBrowser.open(this.opts.selfUrl());
    try {
      return await browser.run({
        model: record.id,
        version: record.version,
        ...(req.wav !== undefined ? { wav: req.wav } : { inputs: req.inputs }),
        release: true,
      });
    } finally {
      await browser.close();
    }
  }
}

/** The edge agent's own infer / vad.detect: it reports no feed digest (its decoding is not observable from here). */
async function runEdge(record: ModelRecord, req: ParityCall): Promise<ParityRunInput> {
  if (!req.edgeUrl) throw new LeptonError('BAD_REQUEST', "platform 'edge' needs edgeUrl, the agent's base URL (e.g. http://127.0.0.1:8081)");
  const edge = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${req.edgeUrl.replace(/\/+$/, '')}/trpc` })] });
  const base = { platform: 'edge' as const, runtime: 'edge agent (onnxruntime-node)', sessionOptions: record.manifest.sessionOptions };
  if (req.wav !== undefined) {
    const res = await edge.vad.detect.mutate({ model: record.id, wav: req.wav, includeProbabilities: true });
    const p = Float32Array.from(res.probabilities ?? []);
    return { ...base, ok: true, outputs: [encodeWireTensor('probabilities', { dtype: 'float32', shape: [p.length], data: p })], steps: res.chunks, answeredBy: res.answeredBy, inferenceMs: res.timings.inferenceMs };
  }
  const res = await edge.infer.mutate({ model: record.id, version: record.version, inputs: req.inputs });
  return { ...base, ok: true, outputs: res.outputs, answeredBy: res.answeredBy, inferenceMs: res.timings.inferenceMs };
}

/** Add the parity service to a host's services (the router finds it there; see libs/api routers/parity.ts). */
export function withParity<S extends object>(services: S, parity: ParityService): S {
  return Object.assign(services, { parity });
}
