import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor, type ModelManifestInput } from '@lepton/contracts';
import { fromOrtTensor, toOrtTensor, type OrtModule } from '@lepton/runtime';
import { manifestFromModel } from '@lepton/api';
import type { DataSet } from './suite';

/** One way of running a model over a data set: returns the outputs by graph output name. */
export interface PathRunner {
  readonly id: PathId;
  readonly label: string;
  /** Prepare the model (create a session, register it...). Throws with the reason when the model cannot load. */
  open(test: { key: string; model: Uint8Array; dataSets: DataSet[] }): Promise<PathSession>;
  /** Start what the path needs once (a server, a browser); a throw skips the whole path with that reason. */
  start?(): Promise<void>;
  close?(): Promise<void>;
  /** What the path found when it started, for the report (e.g. the WebGPU adapter); set by start(). */
  runtime?: string;
}

export interface PathSession {
  run(set: DataSet, outputNames: string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export type PathId = 'ort-node' | 'ort-web' | 'ort-web-webgpu' | 'lepton-server' | 'lepton-browser' | 'lepton-browser-webgpu';

/**
 * Session options every path sets explicitly (the ones Lepton's manifests default to), so a difference between
 * raw onnxruntime and Lepton's layers can never come from graph optimization or threading.
 */
export const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};

/**
 * Raw onnxruntime (node or web): TensorProto -> Lepton tensor -> onnxruntime-common tensor, no wire format, no
 * predictor, no manifest. This is the bar Lepton's paths are held to.
 */
export function rawOrtPath(id: 'ort-node' | 'ort-web', label: string, ort: OrtModule, executionProviders?: string[]): PathRunner {
  return {
    id,
    label,
    async open({ model }) {
      const session = await ort.InferenceSession.create(model, {
        ...SESSION_OPTIONS,
        // Errors only: the report records each failure's message, and test models trip many harmless warnings.
        logSeverityLevel: 3,
        ...(executionProviders ? { executionProviders } : {}),
      });
      return {
        async run(set, outputNames) {
          const feeds: Record<string, OrtTensor> = {};
          for (const { name, tensor } of set.inputs) feeds[name] = toOrtTensor(ort, name, tensor);
          const results = await session.run(feeds, outputNames);
          const out: Record<string, Tensor> = {};
          for (const name of outputNames) {
            const o = results[name];
            if (o) out[name] = fromOrtTensor(name, o);
          }
          return out;
        },
        release: () => session.release(),
      };
    },
  };
}

/** The generic manifest the Lepton paths register a test model under (ids are unique per test). */
export function conformanceManifest(key: string, model: Uint8Array, set: DataSet | undefined): ModelManifestInput {
  const exampleShapes = Object.fromEntries((set?.inputs ?? []).map((i) => [i.name, i.tensor.shape]));
  return manifestFromModel(model, { id: key, version: '1', name: key, exampleShapes });
}

/** Wire round trip of one data set's feeds, as a client sends them (JSON base64 form, through JSON text). */
export function toWire(set: DataSet) {
  return set.inputs.map(({ name, tensor }) => JSON.parse(JSON.stringify(encodeWireTensor(name, tensor))) as ReturnType<typeof encodeWireTensor>);
}

export function fromWire(outputs: { name: string; dtype: string; shape: number[]; data: string | (string | number | boolean)[] }[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const w of outputs) out[w.name] = decodeWireTensor(w, { maxBytes: 1024 * 1024 * 1024 });
  return out;
}
