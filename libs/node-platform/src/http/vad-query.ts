import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import { VadOptionsSchema, type VadOptions } from '@lepton/contracts';
import { describeZodError } from '@lepton/api';

const flag = z.enum(['1', '0', 'true', 'false']).transform((v) => v === '1' || v === 'true');
// Query values are strings; an empty one is an error, not 0 (which z.coerce would make of it).
const num = z.string().trim().min(1).transform(Number);

/** Query of POST /api/v1/vad/detect. Strict, so a misspelt option is an error rather than silently ignored. */
export const VadQuerySchema = z.strictObject({
  model: z.string().min(1).max(128).default('silero-vad-v5'),
  version: z.string().min(1).max(64).optional(),
  includeProbabilities: flag.default(false),
  threshold: num.pipe(VadOptionsSchema.shape.threshold.unwrap()).optional(),
  negThreshold: num.pipe(VadOptionsSchema.shape.negThreshold.unwrap()).optional(),
  minSpeechMs: num.pipe(VadOptionsSchema.shape.minSpeechMs.unwrap()).optional(),
  minSilenceMs: num.pipe(VadOptionsSchema.shape.minSilenceMs.unwrap()).optional(),
  speechPadMs: num.pipe(VadOptionsSchema.shape.speechPadMs.unwrap()).optional(),
});

export interface VadQuery extends VadOptions {
  model?: string;
  version?: string;
  includeProbabilities?: boolean;
}

const OPTION_KEYS = ['threshold', 'negThreshold', 'minSpeechMs', 'minSilenceMs', 'speechPadMs'] as const;

/** Parse the route's query string; VALIDATION_FAILED names the parameter. */
export function parseVadQuery(query: unknown): Required<Pick<VadQuery, 'model' | 'includeProbabilities'>> & {
  version?: string;
  options: VadOptions;
} {
  const parsed = VadQuerySchema.safeParse(query ?? {});
  if (!parsed.success) {
    throw new LeptonError('VALIDATION_FAILED', `query ${describeZodError(parsed.error)}`, z.flattenError(parsed.error));
  }
  const q = parsed.data;
  const options: VadOptions = {};
  for (const key of OPTION_KEYS) if (q[key] !== undefined) options[key] = q[key];
  return { model: q.model, includeProbabilities: q.includeProbabilities, options, ...(q.version ? { version: q.version } : {}) };
}

/** The query string for a VadQuery (what postWavStream sends). */
export function vadQueryString(query: VadQuery): string {
  const params = new URLSearchParams();
  if (query.model !== undefined) params.set('model', query.model);
  if (query.version !== undefined) params.set('version', query.version);
  if (query.includeProbabilities !== undefined) params.set('includeProbabilities', query.includeProbabilities ? '1' : '0');
  for (const key of OPTION_KEYS) if (query[key] !== undefined) params.set(key, String(query[key]));
  const s = params.toString();
  return s ? `?${s}` : '';
}
