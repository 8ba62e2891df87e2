import { z } from 'zod';
import { DTYPES } from '@lepton/tensor-core';

export const DTypeSchema = z.enum(DTYPES);

/** At most 8 dims; each a non-negative safe integer. */
export const ShapeSchema = z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).max(8);

/**
 * Readable array form: numbers; for float dtypes the strings "NaN", "Infinity", "-Infinity" and "-0";
 * for int64/uint64 decimal strings (numbers allowed when safe); booleans for bool; strings for string tensors.
 */
export type WireArray = (number | string | boolean)[];

/**
 * Only "is it an array" here: a body under the 64 MiB limit can hold 8 million numbers, and checking each one
 * with a zod union took ~1 s and a ~280 MB copy before decodeWireTensor could refuse a wrong element count.
 * decodeWireTensor checks the count against dtype x shape first, then each element (TENSOR_ENCODING_INVALID
 * naming the index). The meta keeps the element types in the OpenAPI document.
 */
export const WireArraySchema = z
  .custom<WireArray>((v) => Array.isArray(v), { message: 'expected an array of numbers, strings or booleans' })
  .meta({ type: 'array', items: { type: ['number', 'string', 'boolean'] } });

/**
 * A tensor on the JSON wire: `data` is either base64 of the little-endian bytes (a string) or the readable array
 * form. Never a JSON.stringify'd typed array. Decode with `decodeWireTensor`, which checks the byte length against
 * dtype x shape and enforces size limits before allocating.
 */
export const WireTensorSchema = z.object({
  name: z.string().min(1).max(256),
  dtype: DTypeSchema,
  shape: ShapeSchema,
  data: z.union([z.string(), WireArraySchema]),
});
export type WireTensor = z.infer<typeof WireTensorSchema>;

export const WireFormatSchema = z.enum(['base64', 'array']);
export type WireFormat = z.infer<typeof WireFormatSchema>;
