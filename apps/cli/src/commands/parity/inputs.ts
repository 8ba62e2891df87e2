import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';
import { WireTensorSchema, encodeWireTensor, type ModelManifest, type WireTensor } from '@lepton/contracts';
import { decodeTensorProto, tensorFromProto } from '@lepton/onnx';

/** What `lepton parity` feeds every platform: wire tensors, or a WAV each platform preprocesses itself. */
export type ParityInputs = { kind: 'tensors'; inputs: WireTensor[] } | { kind: 'wav'; wav: Uint8Array; name: string };

/**
 * INPUTS is a JSON file (an array of wire tensors or `{ inputs: [...] }`), a WAV file (VAD models), a TensorProto
 * file (`input_0.pb`) or a folder of them (an ONNX test's test_data_set_N: input_0.pb, input_1.pb... matched to
 * the manifest's inputs by the tensor's name, else by position).
 */
export async function readParityInputs(path: string, manifest: Pick<ModelManifest, 'inputs'>): Promise<ParityInputs> {
  if (!existsSync(path)) throw new LeptonError('FILE_NOT_FOUND', `inputs ${path} do not exist; expected a .json, .wav or .pb file, or a folder of input_N.pb`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => num(a) - num(b));
    if (files.length === 0) throw new LeptonError('FILE_NOT_FOUND', `folder ${path} holds no input_N.pb files`);
    return { kind: 'tensors', inputs: await Promise.all(files.map((f, i) => fromPb(join(path, f), i, manifest))) };
  }
  const lower = path.toLowerCase();
  if (lower.endsWith('.wav')) return { kind: 'wav', wav: new Uint8Array(await readFile(path)), name: basename(path) };
  if (lower.endsWith('.pb')) return { kind: 'tensors', inputs: [await fromPb(path, 0, manifest)] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new LeptonError('BAD_REQUEST', `inputs ${path} are not JSON (${(e as Error).message}); expected wire tensors`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { inputs?: unknown }).inputs;
  const checked = WireTensorSchema.array().safeParse(list);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new LeptonError('VALIDATION_FAILED', `inputs ${path}: ${issue.path.join('.')}: ${issue.message}; expected [{ name, dtype, shape, data }]`);
  }
  return { kind: 'tensors', inputs: checked.data };
}

const num = (f: string): number => Number(/\d+/.exec(f)![0]);

async function fromPb(file: string, index: number, manifest: Pick<ModelManifest, 'inputs'>): Promise<WireTensor> {
  const tp = decodeTensorProto(new Uint8Array(await readFile(file)));
  const names = manifest.inputs.map((s) => s.name);
  const name = tp.name && names.includes(tp.name) ? tp.name : names[index];
  if (!name) throw new LeptonError('INPUT_UNKNOWN', `${file} is input ${index}, but the model has ${names.length} inputs`);
  return encodeWireTensor(name, tensorFromProto(tp));
}
