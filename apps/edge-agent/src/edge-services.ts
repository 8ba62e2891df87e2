import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { ERROR_CODES, decodeWireTensor, encodeWireTensor, isErrorCode, type ModelRecord, type VadResult } from '@lepton/contracts';
import type { InferenceService, LeptonServices, ModelService, VadDetectCall } from '@lepton/api';
import { detectSpeech, type Feeds, type VadRun } from '@lepton/runtime';
import type { LocalModel, LocalModels, Log } from './local-models';
import type { Upstream } from './upstream';
import { ReplayableSource } from './replayable-source';
import type { NewEvent } from './outbox';

/** How much of a streamed upload is kept for forwarding after a local failure (larger uploads are not retried). */
export const REPLAY_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * The edge agent's implementation of the API services: run on the local model when there is one, answer
 * `answeredBy: 'edge'`; otherwise (model not pulled, failed to load, or failed on this request for a reason that
 * is not the caller's fault) forward to the server, whose answer says `answeredBy: 'server'`.
 */
export function createEdgeServices(local: LocalModels, upstream: Upstream, log: Log, event: (e: NewEvent) => void = () => undefined): LeptonServices {
  /** One telemetry event per answered (or failed) call: latency, which path answered, the version. */
  async function observed<T extends { answeredBy: string; version: string }>(model: string, call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const out = await call();
      event({ kind: 'infer', model, version: out.version, latencyMs: performance.now() - t0, ok: true, answeredBy: out.answeredBy === 'server' ? 'server' : 'edge' });
      return out;
    } catch (err) {
      const code = isLeptonError(err) ? err.code : 'INTERNAL';
      event({ kind: 'infer', model, latencyMs: performance.now() - t0, ok: false, code, message: (err as Error).message?.slice(0, 500) });
      throw err;
    }
  }

  const models: ModelService = {
    async list() {
      const cached = local.records();
      let remote: ModelRecord[] = [];
      try {
        remote = await upstream.listModels();
      } catch (err) {
        if (!isUnavailable(err)) throw err;
      }
      const seen = new Set(cached.map((r) => `${r.id}@${r.version}`));
      return [...cached, ...remote.filter((r) => !seen.has(`${r.id}@${r.version}`))];
    },
    async get(id, version) {
      const m = local.get(id);
      if (m && (version === undefined || version === m.record.version)) return m.record;
      return upstream.getModel(id, version);
    },
  };

  /**
   * Run locally; on a fault that is not the request's, forward with `fallback` (and say why in the log). A
   * `version` other than the cached one goes to the server before anything runs here: the server may have it,
   * and asking for it says nothing about the local model, so it must not count toward that model's health (it
   * did, and a few such calls rolled back a healthy model).
   */
  async function localOrForward<T>(
    model: string,
    version: string | undefined,
    run: (m: LocalModel) => Promise<T>,
    fallback: (why: string) => Promise<T>,
  ): Promise<T> {
    const m = local.get(model);
    if (!m) return forward(fallback, local.problem(model)?.message ?? `model ${model} is not pulled by this agent`);
    if (version !== undefined && version !== m.record.version) return forward(fallback, notCached(model, version, m));
    try {
      return await local.track(m, () => run(m), isCallerFault);
    } catch (err) {
      if (isCallerFault(err)) throw err;
      log('local.failed', { model, message: (err as Error).message });
      return forward(fallback, (err as Error).message);
    }
  }

  async function forward<T>(fallback: (why: string) => Promise<T>, why: string): Promise<T> {
    try {
      return await fallback(why);
    } catch (err) {
      if (isUnavailable(err)) {
        throw new LeptonError('UPSTREAM_UNAVAILABLE', `no local answer (${why}) and ${(err as Error).message}`, {
          url: upstream.url,
        });
      }
      throw err;
    }
  }

  const inference: InferenceService = {
    infer: (req) =>
      observed(req.model, () =>
        localOrForward(
          req.model,
          req.version,
          async (m) => {
            const started = performance.now();
            const feeds: Feeds = {};
            for (const w of req.inputs) feeds[w.name] = decodeWireTensor(w);
            const t0 = performance.now();
            const out = await m.predictor.run(feeds);
            const inferenceMs = performance.now() - t0;
            const names = req.outputs ?? Object.keys(out);
            const outputs = names.map((name) => {
              const t = out[name];
              if (!t) throw new LeptonError('BAD_REQUEST', `output ${JSON.stringify(name)} is not an output of model ${req.model}; expected one of ${Object.keys(out).join(', ')}`);
              return encodeWireTensor(name, t, req.format);
            });
            return {
              model: m.record.id,
              version: m.record.version,
              outputs,
              answeredBy: 'edge' as const,
              artifact: artifactOf(m),
              timings: { totalMs: performance.now() - started, inferenceMs },
            };
          },
          () => upstream.infer(req),
        ),
      ),
    vadDetect: (req) =>
      observed(req.model, () =>
        localOrForward(
          req.model,
          req.version,
          (m) => runVad(m, req, req.wav),
          () => upstream.vadDetect(req),
        ),
      ),
    vadDetectStream: (req) => observed(req.model, () => vadStream(req)),
  };

  async function vadStream(req: VadDetectCall & { audio: AsyncIterable<Uint8Array> }): Promise<VadResult> {
    const m = local.get(req.model);
    const missing = () => local.problem(req.model)?.message ?? `model ${req.model} is not pulled by this agent`;
    if (!m) return forward(() => upstream.vadDetectStream(req), missing());
    // As in localOrForward: another version is the server's to answer, before a byte is read here.
    if (req.version !== undefined && req.version !== m.record.version) {
      return forward(() => upstream.vadDetectStream(req), notCached(req.model, req.version, m));
    }
    // The upload can be read once; keep its start so a local failure can still be forwarded (small files).
    const source = new ReplayableSource(req.audio, REPLAY_LIMIT_BYTES);
    try {
      return await local.track(m, () => runVad(m, req, source.first()), isCallerFault);
    } catch (err) {
      if (isCallerFault(err)) throw err;
      const again = source.replay();
      if (!again) throw err;
      log('local.failed', { model: req.model, message: (err as Error).message });
      return forward(() => upstream.vadDetectStream({ ...req, audio: again }), (err as Error).message);
    }
  }

  return { platform: 'edge', models, inference };
}

async function runVad(m: LocalModel, req: VadDetectCall, wav: Uint8Array | AsyncIterable<Uint8Array>): Promise<VadResult> {
  if (m.record.task !== 'vad') {
    throw new LeptonError('MODEL_NOT_VAD', `model ${m.record.id} has task ${JSON.stringify(m.record.task)}; vad.detect expects a 'vad' model`);
  }
  const started = performance.now();
  const run: VadRun = await detectSpeech(m.predictor, wav, req.options);
  return {
    model: m.record.id,
    version: m.record.version,
    segments: run.segments,
    chunks: run.chunks,
    durationSec: run.durationSec,
    sampleRate: run.sampleRate,
    source: { sampleRate: run.source.sampleRate, channels: run.source.channels, encoding: run.source.encoding },
    ...(req.includeProbabilities ? { probabilities: Array.from(run.probabilities) } : {}),
    ...(run.warnings ? { warnings: run.warnings } : {}),
    answeredBy: 'edge',
    artifact: artifactOf(m),
    timings: { totalMs: performance.now() - started, inferenceMs: run.inferenceMs },
  };
}

/** Why a call naming `version` is forwarded: it is not the one this agent caches (named too). */
function notCached(model: string, version: string, m: LocalModel): string {
  return `model ${model}@${version} is not the version cached on this agent (${m.record.version})`;
}

/** The artifact this agent runs for a model: the digest it verified, and the record's variant of that digest. */
function artifactOf(m: LocalModel): { variant?: string; sha256: string } {
  const variant = m.record.variants.find((v) => v.sha256 === m.sha256)?.id;
  return { sha256: m.sha256, ...(variant !== undefined ? { variant } : {}) };
}

/** Errors the server would give too (bad WAV, bad tensor...): forwarding would only repeat them. */
function isCallerFault(err: unknown): boolean {
  if (!isLeptonError(err) || !isErrorCode(err.code)) return false;
  if (err.code === 'MODEL_NOT_FOUND') return false;
  const status = ERROR_CODES[err.code].http;
  return status >= 400 && status < 500;
}

function isUnavailable(err: unknown): boolean {
  return isLeptonError(err) && err.code === 'UPSTREAM_UNAVAILABLE';
}
