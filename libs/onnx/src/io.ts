import { LeptonError } from '@lepton/tensor-core';
import { allGraphs, constantTensor } from './graph';
import { decodeModel, encodeModel } from './proto/codec';
import type { ModelProto, TensorProto } from './proto/types';
import { isExternal, tensorByteSize } from './tensors';

/**
 * Returns the bytes of an external data file. `location` is already checked: relative, inside the model's
 * folder, '/'-separated; the caller joins it to the model's folder (or looks it up in an upload).
 */
export type ExternalDataResolver = (location: string) => Uint8Array | Promise<Uint8Array>;

export interface ReadModelOptions {
  resolveExternal?: ExternalDataResolver;
}

/**
 * Check an external data location from a model: it must be a relative path that stays inside the model's folder.
 * Throws VALIDATION_FAILED naming the location otherwise. Returns the normalized path.
 */
export function checkExternalLocation(location: string): string {
  const reject = (why: string): never => {
    throw new LeptonError('VALIDATION_FAILED', `external data location ${JSON.stringify(location)} ${why}; expected a relative path inside the model's folder`, { location });
  };
  if (typeof location !== 'string' || location.length === 0) reject('is empty');
  if (location.includes('\0')) reject('contains a NUL byte');
  const unified = location.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) reject('is absolute');
  const parts: string[] = [];
  for (const part of unified.split('/')) {
    if (part === '' || part === '.') continue;
    // Even a '..' that would come back inside (a/../b) is refused: there is no reason to write one.
    if (part === '..') reject('leaves the model folder');
    parts.push(part);
  }
  if (parts.length === 0) reject('names no file');
  return parts.join('/');
}

function entries(t: TensorProto): Map<string, string> {
  return new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
}

/** Every tensor of the model (initializers and Constant values, all graphs). */
export function allTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  for (const { graph } of allGraphs(model.graph!)) {
    out.push(...graph.initializer);
    for (const node of graph.node) {
      const t = constantTensor(node);
      if (t) out.push(t);
    }
  }
  return out;
}

/**
 * Decode a model and bring external data in as views on the resolved files (each file read once). Without a
 * resolver a model with external data is rejected, naming the first location.
 */
export async function readModel(bytes: Uint8Array, options: ReadModelOptions = {}): Promise<ModelProto> {
  const model = decodeModel(bytes);
  const files = new Map<string, Uint8Array>();
  for (const t of allTensors(model)) {
    if (!isExternal(t)) continue;
    const e = entries(t);
    const location = checkExternalLocation(e.get('location') ?? '');
    if (!options.resolveExternal) {
      throw new LeptonError('VALIDATION_FAILED', `tensor ${JSON.stringify(t.name)} is stored in external file ${JSON.stringify(location)}; pass resolveExternal to read it`);
    }
    let file = files.get(location);
    if (!file) {
      file = await options.resolveExternal(location);
      files.set(location, file);
    }
    const offset = Number(e.get('offset') ?? '0');
    const expected = tensorByteSize(t);
    const length = e.has('length') ? Number(e.get('length')) : expected;
    if (!(offset >= 0 && length >= 0 && offset + length <= file.length) || length !== expected) {
      throw new LeptonError(
        'TENSOR_SIZE_MISMATCH',
        `tensor ${JSON.stringify(t.name)} reads bytes [${offset}, ${offset + length}) of ${JSON.stringify(location)} (${file.length} bytes); expected ${expected} bytes inside the file`,
      );
    }
    t.rawData = file.subarray(offset, offset + length);
    t.externalData = [];
    delete t.dataLocation;
  }
  return model;
}

export interface WriteModelOptions {
  /** Move tensors of at least `threshold` bytes (default 1024) into one file named `location`, next to the model. */
  externalData?: { location: string; threshold?: number; align?: number };
}

export interface WrittenModel {
  model: Uint8Array;
  /** External data files by location (relative to the model). */
  files: Record<string, Uint8Array>;
}

/** Encode a model, optionally moving big tensors to an external data file. The model object is left unchanged. */
export function writeModel(model: ModelProto, options: WriteModelOptions = {}): WrittenModel {
  const ext = options.externalData;
  if (!ext) return { model: encodeModel(model), files: {} };
  const location = checkExternalLocation(ext.location);
  const threshold = ext.threshold ?? 1024;
  const align = ext.align ?? 64;
  const moved = allTensors(model).filter((t) => !isExternal(t) && (t.rawData?.length ?? 0) >= threshold);
  let size = 0;
  const offsets = moved.map((t) => {
    const at = Math.ceil(size / align) * align;
    size = at + t.rawData!.length;
    return at;
  });
  const file = new Uint8Array(size);
  const saved = moved.map((t) => ({ raw: t.rawData, ext: t.externalData, loc: t.dataLocation }));
  moved.forEach((t, i) => {
    file.set(t.rawData!, offsets[i]);
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offsets[i]) },
      { key: 'length', value: String(t.rawData!.length) },
    ];
    t.dataLocation = 1;
    delete t.rawData;
  });
  try {
    return { model: encodeModel(model), files: { [location]: file } };
  } finally {
    moved.forEach((t, i) => {
      t.rawData = saved[i]!.raw;
      t.externalData = saved[i]!.ext;
      if (saved[i]!.loc === undefined) delete t.dataLocation;
      else t.dataLocation = saved[i]!.loc;
    });
  }
}

/** Total bytes of a written model and its external files. */
export function writtenSize(w: WrittenModel): number {
  return w.model.length + Object.values(w.files).reduce((a, f) => a + f.length, 0);
}

