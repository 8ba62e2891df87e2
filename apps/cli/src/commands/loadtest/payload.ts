import { LeptonError, allocate, type Tensor, type TensorData } from '@lepton/tensor-core';
import { dtypeOfKserve, encodeWireTensor, joinKserveBody, writeKserveTensor, type KserveModelMetadata } from '@lepton/contracts';

export type LoadProtocol = 'trpc' | 'kserve-json' | 'kserve-binary';
export const LOAD_PROTOCOLS: readonly LoadProtocol[] = ['trpc', 'kserve-json', 'kserve-binary'];

/** One prepared request: sent unchanged many times, so encoding never competes with the server for the CPU. */
export interface PreparedRequest {
  /** POST unless given (GET is for measuring the HTTP floor on a health route). */
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Deterministic inputs for a model from its KServe metadata: variable dims become `batch` (dim 0) or 1. */
export function syntheticInputs(meta: KserveModelMetadata, batch = 1): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  let seed = 12345;
  for (const spec of meta.inputs) {
    const dtype = dtypeOfKserve(spec.datatype, `input '${spec.name}'`);
    const shape = spec.shape.map((d, i) => (d >= 0 ? d : i === 0 ? batch : 1));
    const count = shape.reduce((a, b) => a * b, 1);
    if (dtype === 'string') {
      out[spec.name] = { dtype, shape, data: Array.from({ length: count }, (_, i) => `s${i}`) };
      continue;
    }
    const data = allocate(dtype, count) as Exclude<TensorData, string[]>;
    for (let i = 0; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(seed % 7);
      else if (data instanceof Float32Array || data instanceof Float64Array) data[i] = seed / 2147483648;
      else data[i] = seed % 2;
    }
    out[spec.name] = { dtype, shape, data } as Tensor;
  }
  if (Object.keys(out).length === 0) throw new LeptonError('BAD_REQUEST', `model ${meta.name} lists no inputs to generate`);
  return out;
}

/** The same inputs as a tRPC infer call, a KServe JSON request, or a KServe binary request. */
export function prepareRequest(protocol: LoadProtocol, model: string, inputs: Record<string, Tensor>): PreparedRequest {
  const enc = new TextEncoder();
  if (protocol === 'trpc') {
    const body = { model, inputs: Object.entries(inputs).map(([name, t]) => encodeWireTensor(name, t, 'base64')) };
    return { path: '/trpc/infer', headers: { 'content-type': 'application/json' }, body: enc.encode(JSON.stringify(body)) };
  }
  const binary = protocol === 'kserve-binary';
  const entries = [];
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(inputs)) {
    const { entry, bytes } = writeKserveTensor(name, t, binary);
    entries.push(entry);
    if (bytes) parts.push(bytes);
  }
  const { body, headerLength } = joinKserveBody({ inputs: entries, parameters: { binary_data_output: binary } }, parts);
  const headers: Record<string, string> = binary
    ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }
    : { 'content-type': 'application/json' };
  return { path: `/v2/models/${encodeURIComponent(model)}/infer`, headers, body };
}
