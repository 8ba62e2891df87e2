import { z } from 'zod';

/**
 * Open Inference Protocol (KServe v2) REST messages. Objects are loose: the protocol lets servers and clients add
 * fields, and we must not reject a Triton client for sending one we do not use. Shapes are checked by the codec
 * (not here) so that a bad dim gets SHAPE_INVALID with the tensor's name rather than a generic validation error.
 */
export const KserveParametersSchema = z.record(z.string(), z.unknown());
export type KserveParameters = z.infer<typeof KserveParametersSchema>;

/** `$request_input` and `$response_output`: a tensor with JSON `data` or a `binary_data_size` parameter. */
export const KserveTensorSchema = z.looseObject({
  name: z.string().min(1).max(256),
  shape: z.array(z.unknown()).max(8),
  datatype: z.string().max(32),
  parameters: KserveParametersSchema.optional(),
  data: z.unknown().optional(),
});
export type KserveTensor = z.infer<typeof KserveTensorSchema>;

export const KserveRequestOutputSchema = z.looseObject({
  name: z.string().min(1).max(256),
  parameters: KserveParametersSchema.optional(),
});

export const KserveInferRequestSchema = z.looseObject({
  id: z.string().max(256).optional(),
  parameters: KserveParametersSchema.optional(),
  inputs: z.array(KserveTensorSchema).min(1).max(64),
  outputs: z.array(KserveRequestOutputSchema).max(64).optional(),
});
export type KserveInferRequest = z.infer<typeof KserveInferRequestSchema>;

export const KserveInferResponseSchema = z.looseObject({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: KserveParametersSchema.optional(),
  outputs: z.array(KserveTensorSchema),
});
export type KserveInferResponse = z.infer<typeof KserveInferResponseSchema>;

export const KserveMetadataTensorSchema = z.object({
  name: z.string(),
  datatype: z.string(),
  /** -1 for a dim of variable size. */
  shape: z.array(z.number().int()),
});

export const KserveModelMetadataSchema = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(KserveMetadataTensorSchema),
  outputs: z.array(KserveMetadataTensorSchema),
});
export type KserveModelMetadata = z.infer<typeof KserveModelMetadataSchema>;

export const KserveServerMetadataSchema = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});

/** Every error of the KServe routes: `{ "error": message }` (plus our stable code, which clients may ignore). */
export const KserveErrorSchema = z.object({ error: z.string(), code: z.string().optional() });

/** HTTP header naming the length of the JSON part of a binary-extension body. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 256;
const isParams = (v: unknown) => v === undefined || isPlainObject(v);

function isPlainTensor(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const { name, shape, datatype, parameters } = v;
  return isName(name) && Array.isArray(shape) && shape.length <= 8 && typeof datatype === 'string' && datatype.length <= 32 && isParams(parameters);
}

/**
 * KserveInferRequestSchema.safeParse with a fast path: a header that plainly satisfies every rule of the schema
 * (what JSON.parse gives for a well-formed request) is returned as it is, without zod copying it; anything else —
 * every fault, every odd prototype — goes to zod, which decides and names the fault. The fast path accepts only
 * inputs zod accepts and returns the same value zod would (tested against it on generated headers).
 */
export function parseKserveInferRequest(header: unknown): ReturnType<typeof KserveInferRequestSchema.safeParse> {
  if (isPlainObject(header)) {
    const { id, parameters, inputs, outputs } = header;
    const ok =
      (id === undefined || (typeof id === 'string' && id.length <= 256)) &&
      isParams(parameters) &&
      Array.isArray(inputs) &&
      inputs.length >= 1 &&
      inputs.length <= 64 &&
      inputs.every(isPlainTensor) &&
      (outputs === undefined ||
        (Array.isArray(outputs) && outputs.length <= 64 && outputs.every((o: unknown) => isPlainObject(o) && isName(o['name']) && isParams(o['parameters']))));
    if (ok) return { success: true, data: header as KserveInferRequest } as ReturnType<typeof KserveInferRequestSchema.safeParse>;
  }
  return KserveInferRequestSchema.safeParse(header);
}
