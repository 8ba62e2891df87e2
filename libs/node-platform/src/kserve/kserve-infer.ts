import { LeptonError, type Tensor } from '@lepton/tensor-core';
import {
  BinaryCursor,
  decodeWireTensor,
  encodeWireTensor,
  joinKserveBody,
  parseKserveInferRequest,
  readKserveTensor,
  splitKserveBody,
  writeKserveTensor,
  type KserveInferRequest,
  type KserveTensor,
} from '@lepton/contracts';
import { describeZodError, type LeptonServices, type TensorInferResult } from '@lepton/api';
import { z } from 'zod';

export interface KserveInferLimits {
  /** Largest decoded tensor in bytes (default 64 MiB). */
  maxTensorBytes: number;
}

/** A decoded KServe infer request: tensors own fresh storage, never the request buffer. */
export interface DecodedKserveRequest {
  id: string | undefined;
  inputs: Record<string, Tensor>;
  /** Requested outputs in order (undefined: all), each with whether it goes back as binary. */
  outputs: { name: string; binary: boolean }[] | undefined;
  binaryByDefault: boolean;
}

const utf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** Parse and check a request body (JSON, or JSON header + binary tensors); every fault is a 4xx LeptonError. */
export function decodeKserveRequest(body: Uint8Array, headerLength: string | undefined, limits: KserveInferLimits): DecodedKserveRequest {
  const frame = splitKserveBody(body, headerLength, utf8);
  const parsed = parseKserveInferRequest(frame.header);
  if (!parsed.success) {
    throw new LeptonError('VALIDATION_FAILED', `inference request ${describeZodError(parsed.error)}`, z.flattenError(parsed.error));
  }
  const req: KserveInferRequest = parsed.data;
  const cursor = new BinaryCursor(frame.binary);
  const inputs: Record<string, Tensor> = {};
  for (const entry of req.inputs) {
    if (Object.prototype.hasOwnProperty.call(inputs, entry.name)) {
      throw new LeptonError('BAD_REQUEST', `input '${entry.name}' is given twice; each input may appear once`, { input: entry.name });
    }
    inputs[entry.name] = readKserveTensor(entry, cursor, limits.maxTensorBytes);
  }
  cursor.finish();
  const binaryByDefault = req.parameters?.['binary_data_output'] === true;
  const asked = new Set<string>();
  const outputs = req.outputs?.map((o) => {
    // Asked twice (maybe once binary, once JSON): the answer held it once, in the last form asked, without a word.
    if (asked.has(o.name)) throw new LeptonError('BAD_REQUEST', `output '${o.name}' is asked for twice; each output may appear once in outputs`, { output: o.name });
    asked.add(o.name);
    const flag = o.parameters?.['binary_data'];
    return { name: o.name, binary: typeof flag === 'boolean' ? flag : binaryByDefault };
  });
  return { id: req.id, inputs, outputs, binaryByDefault };
}

/** Run a decoded request on the host's services (tensors directly, or through the JSON wire when it has no tensor path). */
export async function runKserveRequest(
  services: LeptonServices,
  model: string,
  version: string | undefined,
  req: DecodedKserveRequest,
  limits: KserveInferLimits,
): Promise<TensorInferResult> {
  const call = {
    model,
    ...(version !== undefined ? { version } : {}),
    inputs: req.inputs,
    ...(req.outputs ? { outputs: req.outputs.map((o) => o.name) } : {}),
  };
  if (services.inference.inferTensors) return services.inference.inferTensors(call);
  const res = await services.inference.infer({
    model,
    ...(version !== undefined ? { version } : {}),
    inputs: Object.entries(req.inputs).map(([name, t]) => encodeWireTensor(name, t, 'base64')),
    ...(call.outputs ? { outputs: call.outputs } : {}),
    format: 'base64',
  });
  const outputs: Record<string, Tensor> = {};
  for (const w of res.outputs) outputs[w.name] = decodeWireTensor(w, { maxBytes: limits.maxTensorBytes });
  return { model: res.model, version: res.version, outputs, answeredBy: res.answeredBy, timings: res.timings };
}

/** The response: plain JSON, or JSON header + binary tensors when any output asked for binary. */
export function encodeKserveResponse(
  req: DecodedKserveRequest,
  res: TensorInferResult,
): { json: unknown } | { body: Uint8Array; headerLength: number } {
  const binaryOf = new Map(req.outputs?.map((o) => [o.name, o.binary]));
  const entries: KserveTensor[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(res.outputs)) {
    const { entry, bytes } = writeKserveTensor(name, t, binaryOf.get(name) ?? req.binaryByDefault);
    entries.push(entry);
    if (bytes) parts.push(bytes);
  }
  const header = { model_name: res.model, model_version: res.version, ...(req.id !== undefined ? { id: req.id } : {}), outputs: entries };
  return parts.length === 0 ? { json: header } : joinKserveBody(header, parts);
}
