import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { decodeBase64, decodeWireTensor, encodeWireTensor, ErrorBodySchema, type ModelRecord, type Variant, type WireTensor } from '@lepton/contracts';
import { createPredictor, detectSpeech, manifestForVariant, preprocessForManifest, variantSessionOptions, type OrtModule, type Predictor } from '@lepton/runtime';
import {
  buildParityReport,
  feedsCanonicalBytes,
  findVariant,
  manifestFromModel,
  namesVariant,
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
 * Chromium on this server's own web app ('browser-webgpu': the same page on onnxruntime-web's WebGPU backend).
 * 'local' is the caller's own process, so callers provide it.
 */
export class ServerParity implements ParityService {
  /** Predictors per artifact (sha256) for VAD files, named variants and the fp32 reference. */
  private readonly predictors = new Map<string, Promise<Predictor>>();

  constructor(private readonly opts: ServerParityOptions) {}

  async run(req: ParityCall): Promise<ParityReport> {
    const record = req.modelBytes !== undefined ? await this.registerUpload(req.model, decodeBase64(req.modelBytes)) : await this.opts.registry.get(req.model, req.version);
    if (req.wav !== undefined && record.task !== 'vad') {
      throw new LeptonError('MODEL_NOT_VAD', `model ${record.id}@${record.version} is a ${record.task} model; a WAV input needs a vad model`);
    }
    if (req.wav === undefined && req.inputs.length === 0 && record.manifest.inputs.length > 0) {
      throw new LeptonError('INPUT_MISSING', `parity.run for ${record.id}@${record.version} needs inputs (wire tensors) or a wav`);
    }
    // One artifact for every platform: the named variant, else the fp32 model the server's infer runs.
    const named = namesVariant(req);
    const variant = named ? findVariant(record, req) : await this.defaultVariant(record);
    const target = { variant, named };
    const provided = new Set(req.provided.map((p) => p.platform));
    const runs: ParityRunInput[] = [...req.provided];
    for (const platform of req.platforms) {
      if (provided.has(platform)) continue;
      runs.push(await this.runOn(platform, record, req, target));
    }
    // Report in the order the caller listed the platforms (the first is the default reference).
    const order = (p: ParityPlatform) => (req.platforms.includes(p) ? req.platforms.indexOf(p) : req.platforms.length);
    runs.sort((a, b) => order(a.platform) - order(b.platform));
    let fp32: { sha256: string; outputs: WireTensor[] } | undefined;
    if (req.compareFp32 && variant.precision !== 'fp32') {
      const reference = await this.defaultVariant(record);
      const run = await this.runServer(record, req, { variant: reference, named: true });
      if (run.ok && run.outputs) fp32 = { sha256: reference.sha256, outputs: run.outputs };
    }
    return buildParityReport({
      model: record.id,
      version: record.version,
      precision: variant.precision,
      variant: { id: variant.id, precision: variant.precision, target: variant.target, sha256: variant.sha256 },
      variantNamed: named,
      runs,
      ...(req.reference ? { reference: req.reference } : {}),
      ...(fp32 ? { fp32 } : {}),
    });
  }

  /** The fp32 variant the server's own infer loads (registry.resolveVariant, target server). */
  private async defaultVariant(record: ModelRecord): Promise<Variant> {
    return (await this.opts.registry.resolveVariant(record.id, { version: record.version, precision: 'fp32', target: 'server' })).variant;
  }

  /** Register an uploaded model file under a generic manifest (temporary in spirit; content-addressed id). */
  private async registerUpload(name: string, bytes: Uint8Array): Promise<ModelRecord> {
    const digest = sha256Hex(bytes).slice(0, 12);
    const manifest = manifestFromModel(bytes, { id: `parity-${digest}`, version: digest, name });
    const { record } = await this.opts.registry.register(manifest, [{ precision: 'fp32', target: 'any', source: bytes }]);
    return record;
  }

  async close(): Promise<void> {
    const loaded = [...this.predictors.values()];
    this.predictors.clear();
    await Promise.all(loaded.map((p) => p.then((x) => x.release()).catch(() => undefined)));
  }

  private async runOn(platform: ParityPlatform, record: ModelRecord, req: ParityCall, target: Target): Promise<ParityRunInput> {
    try {
      switch (platform) {
        case 'server':
          return await this.runServer(record, req, target);
        case 'edge':
          return await runEdge(record, req);
        case 'browser':
          return await this.runBrowser(record, req, target.variant, 'wasm');
        case 'browser-webgpu':
          return await this.runBrowser(record, req, target.variant, 'webgpu');
        case 'local':
          throw new LeptonError('NOT_IMPLEMENTED', "platform 'local' is the caller's own process: run it there and pass it in `provided` (lepton parity does)");
      }
    } catch (err) {
      const code = isLeptonError(err) ? err.code : 'INTERNAL';
      return { platform, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } };
    }
  }

  private async runServer(record: ModelRecord, req: ParityCall, { variant, named }: Target): Promise<ParityRunInput> {
    const base = {
      platform: 'server' as const,
      runtime: `onnxruntime-node@${this.opts.ortVersion ?? '1.30'} (cpu)`,
      executionProvider: 'cpu',
      sessionOptions: variantSessionOptions(record.manifest, variant),
      answeredBy: 'server',
      variant: variant.id,
    };
    // A named variant (or a VAD file) runs on a predictor of that very artifact; the default goes through the
    // real infer, which loads the same fp32 artifact (defaultVariant).
    if (req.wav !== undefined || named) {
      const { predictor: loaded, sha256 } = await this.predictorOf(record, variant);
      const { predictor, calls } = recordFeeds(loaded);
      const t0 = performance.now();
      let outputs: WireTensor[];
      if (req.wav !== undefined) {
        const run = await detectSpeech(predictor, decodeBase64(req.wav));
        outputs = [encodeWireTensor('probabilities', { dtype: 'float32', shape: [run.probabilities.length], data: Float32Array.from(run.probabilities) })];
      } else {
        const result = await predictor.run(Object.fromEntries(req.inputs.map((w) => [w.name, decodeWireTensor(w)] as const)));
        outputs = record.manifest.outputs.filter((o) => result[o.name]).map((o) => encodeWireTensor(o.name, result[o.name]!));
      }
      const inferenceMs = performance.now() - t0;
      return { ...base, ok: true, outputs, artifactSha256: sha256, feedsSha256: sha256Hex(feedsCanonicalBytes(calls)), steps: calls.length, inferenceMs };
    }
    // The real infer path; the digest is of what the model gets there: the same decode of the same wire tensors,
    // then the manifest's preprocess steps (as the predictor inside infer runs them).
    const decoded = Object.fromEntries(req.inputs.map((w) => [w.name, decodeWireTensor(w)] as const));
    const feeds = preprocessForManifest(record.manifest, decoded);
    const res = await this.opts.inference.infer({ model: record.id, version: record.version, inputs: req.inputs, format: 'base64' });
    return {
      ...base,
      ok: true,
      outputs: res.outputs,
      artifactSha256: variant.sha256,
      feedsSha256: sha256Hex(feedsCanonicalBytes([feeds])),
      steps: 1,
      inferenceMs: res.timings.inferenceMs,
      answeredBy: res.answeredBy,
    };
  }

  /** A predictor on one variant's artifact, whose bytes are hashed here (the digest the report states). */
  private async predictorOf(record: ModelRecord, variant: Variant): Promise<{ predictor: Predictor; sha256: string }> {
    const key = variant.sha256;
    let pending = this.predictors.get(key);
    if (!pending) {
      pending = (async () => {
        const bytes = await this.opts.artifacts.read(variant.sha256);
        const actual = sha256Hex(bytes);
        if (actual !== variant.sha256) {
          throw new LeptonError('ARTIFACT_DIGEST_MISMATCH', `artifact of ${record.id}@${record.version} (${variant.id}) has sha256 ${actual}; expected ${variant.sha256}`);
        }
        return createPredictor({ manifest: manifestForVariant(record.manifest, variant), model: bytes, ort: this.opts.ort });
      })();
      pending.catch(() => this.predictors.delete(key));
      this.predictors.set(key, pending);
    }
    return { predictor: await pending, sha256: variant.sha256 };
  }

  private async runBrowser(record: ModelRecord, req: ParityCall, variant: Variant, executionProvider: 'wasm' | 'webgpu'): Promise<ParityRunInput> {
    const browser = await HeadlessBrowser.open(this.opts.selfUrl());
    try {
      return await browser.run({
        model: record.id,
        version: record.version,
        variant: variant.id,
        executionProvider,
        ...(req.wav !== undefined ? { wav: req.wav } : { inputs: req.inputs }),
        release: true,
      });
    } finally {
      await browser.close();
    }
  }
}

/**
 * The edge agent's own infer / vad.detect: it reports no feed digest (its decoding is not observable from here),
 * but says which artifact answered (`artifact`); the agent runs the variant the fleet assigned it, so in a parity
 * run of another variant buildParityReport marks the edge run not ok (naming both artifacts) instead of judging it.
 */
async function runEdge(record: ModelRecord, req: ParityCall): Promise<ParityRunInput> {
  if (!req.edgeUrl) throw new LeptonError('BAD_REQUEST', "platform 'edge' needs edgeUrl, the agent's base URL (e.g. http://127.0.0.1:8081)");
  const edge = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${req.edgeUrl.replace(/\/+$/, '')}/trpc` })] });
  const base = { platform: 'edge' as const, runtime: 'edge agent (onnxruntime-node)' };
  // The options of the variant that answered (the agent merges them the same way; see local-models.ts).
  const options = (artifact: { sha256: string } | undefined) => ({
    sessionOptions: variantSessionOptions(record.manifest, record.variants.find((v) => v.sha256 === artifact?.sha256)),
  });
  try {
    if (req.wav !== undefined) {
      const res = await edge.vad.detect.mutate({ model: record.id, wav: req.wav, includeProbabilities: true });
      const p = Float32Array.from(res.probabilities ?? []);
      return { ...base, ...options(res.artifact), ...ran(res.artifact), ok: true, outputs: [encodeWireTensor('probabilities', { dtype: 'float32', shape: [p.length], data: p })], steps: res.chunks, answeredBy: res.answeredBy, inferenceMs: res.timings.inferenceMs };
    }
    const res = await edge.infer.mutate({ model: record.id, version: record.version, inputs: req.inputs });
    return { ...base, ...options(res.artifact), ...ran(res.artifact), ok: true, outputs: res.outputs, answeredBy: res.answeredBy, inferenceMs: res.timings.inferenceMs };
  } catch (err) {
    throw edgeError(req.edgeUrl, err);
  }
}

/**
 * What the agent said, with its own code (its tRPC error carries the Lepton body), or UPSTREAM_UNAVAILABLE naming
 * the URL when no Lepton host answered there: both were INTERNAL ("fetch failed", or the agent's message alone).
 */
function edgeError(edgeUrl: string, err: unknown): LeptonError {
  if (err instanceof TRPCClientError) {
    const body = ErrorBodySchema.safeParse((err.data as { lepton?: unknown } | undefined)?.lepton);
    if (body.success) return new LeptonError(body.data.code, `edge agent ${edgeUrl}: ${body.data.message}`, body.data.details);
  }
  // The innermost cause says why (ECONNREFUSED ...); tRPC and fetch each wrap it ("fetch failed").
  let cause: unknown = err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return new LeptonError('UPSTREAM_UNAVAILABLE', `edge agent ${edgeUrl} did not answer as a Lepton agent: ${cause instanceof Error ? cause.message : String(cause)}`, { url: edgeUrl });
}

const ran = (artifact: { variant?: string | undefined; sha256: string } | undefined) =>
  artifact ? { artifactSha256: artifact.sha256, ...(artifact.variant !== undefined ? { variant: artifact.variant } : {}) } : {};

interface Target {
  variant: Variant;
  /** The caller named it (else it is the default fp32, which the server runs through its real infer). */
  named: boolean;
}

/** Add the parity service to a host's services (the router finds it there; see libs/api routers/parity.ts). */
export function withParity<S extends object>(services: S, parity: ParityService): S {
  return Object.assign(services, { parity });
}
