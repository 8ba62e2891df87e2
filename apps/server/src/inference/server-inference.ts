import { performance } from 'node:perf_hooks';
import { LeptonError, type Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor, type InferResponse, type ModelRecord, type VadResult } from '@lepton/contracts';
import { createPredictor, detectSpeech, type ByteSource, type OrtModule, type Predictor } from '@lepton/runtime';
import type { InferenceService, VadDetectCall } from '@lepton/api';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelRegistry } from '../registry/model-registry';

export interface ServerInferenceOptions {
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  ort: OrtModule;
  /** Largest decoded input tensor (bytes); default 64 MiB. */
  maxTensorBytes?: number;
}

/**
 * Inference on onnxruntime-node: one predictor per model version, created on first use from the fp32 variant's
 * verified bytes and kept for the life of the server (sessions are safe to share between concurrent requests;
 * each VAD request opens its own stream, so state never leaks between callers).
 */
export class ServerInference implements InferenceService {
  private readonly predictors = new Map<string, Promise<Predictor>>();

  constructor(private readonly opts: ServerInferenceOptions) {}

  async infer(req: Parameters<InferenceService['infer']>[0]): Promise<InferResponse> {
    const t0 = performance.now();
    const record = await this.opts.registry.get(req.model, req.version);
    const feeds: Record<string, Tensor> = {};
    for (const wire of req.inputs) {
      if (wire.name in feeds) {
        throw new LeptonError('BAD_REQUEST', `input '${wire.name}' is given twice; each input may appear once`, { input: wire.name });
      }
      feeds[wire.name] = decodeWireTensor(wire, { maxBytes: this.opts.maxTensorBytes ?? 64 * 1024 * 1024 });
    }
    const predictor = await this.predictorFor(record);
    const t1 = performance.now();
    const outputs = await predictor.run(feeds);
    const inferenceMs = performance.now() - t1;
    const names = req.outputs ?? predictor.manifest.outputs.map((o) => o.name);
    const wire = names.map((name) => {
      const t = outputs[name];
      if (!t) {
        throw new LeptonError('BAD_REQUEST', `'${name}' is not an output of model ${record.id}@${record.version}; outputs: ${Object.keys(outputs).join(', ')}`, {
          output: name,
        });
      }
      return encodeWireTensor(name, t, req.format);
    });
    return {
      model: record.id,
      version: record.version,
      outputs: wire,
      answeredBy: 'server',
      timings: { totalMs: performance.now() - t0, inferenceMs },
    };
  }

  vadDetect(req: VadDetectCall & { wav: Uint8Array }): Promise<VadResult> {
    return this.detect(req, req.wav);
  }

  vadDetectStream(req: VadDetectCall & { audio: AsyncIterable<Uint8Array> }): Promise<VadResult> {
    return this.detect(req, req.audio);
  }

  /** Release every loaded session (server shutdown). */
  async close(): Promise<void> {
    const loaded = [...this.predictors.values()];
    this.predictors.clear();
    await Promise.all(loaded.map((p) => p.then((pr) => pr.release()).catch(() => undefined)));
  }

  private async detect(req: VadDetectCall, audio: ByteSource): Promise<VadResult> {
    const t0 = performance.now();
    const record = await this.opts.registry.get(req.model, req.version);
    if (record.task !== 'vad') {
      throw new LeptonError('MODEL_NOT_VAD', `model ${record.id}@${record.version} is a ${record.task} model; vad.detect needs a vad model`, {
        model: record.id,
        task: record.task,
      });
    }
    const predictor = await this.predictorFor(record);
    const run = await detectSpeech(predictor, audio, req.options);
    return {
      model: record.id,
      version: record.version,
      segments: run.segments,
      chunks: run.chunks,
      durationSec: run.durationSec,
      sampleRate: run.sampleRate,
      source: { sampleRate: run.source.sampleRate, channels: run.source.channels, encoding: run.source.encoding },
      ...(req.includeProbabilities ? { probabilities: Array.from(run.probabilities) } : {}),
      answeredBy: 'server',
      timings: { totalMs: performance.now() - t0, inferenceMs: run.inferenceMs },
    };
  }

  /** The cached predictor of a model version; a failed load is not cached, so the next request retries. */
  private predictorFor(record: ModelRecord): Promise<Predictor> {
    const key = `${record.id}@${record.version}`;
    let pending = this.predictors.get(key);
    if (!pending) {
      pending = (async () => {
        const { variant } = await this.opts.registry.resolveVariant(record.id, { version: record.version, precision: 'fp32', target: 'server' });
        const model = await this.opts.artifacts.read(variant.sha256);
        return createPredictor({ manifest: record.manifest, model, ort: this.opts.ort });
      })();
      this.predictors.set(key, pending);
      pending.catch(() => this.predictors.delete(key));
    }
    return pending;
  }
}
