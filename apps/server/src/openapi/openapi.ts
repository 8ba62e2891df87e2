import { z } from 'zod';
import type { AnyRouter } from '@trpc/server';
import {
  ErrorBodySchema,
  InferResponseSchema,
  KserveErrorSchema,
  KserveInferRequestSchema,
  KserveInferResponseSchema,
  KserveModelMetadataSchema,
  KserveServerMetadataSchema,
  ModelRecordSchema,
  VadResultSchema,
} from '@lepton/contracts';
import { EnrollResponseSchema } from '@lepton/api';

type Json = Record<string, unknown>;

/** What each procedure returns: tRPC procedures declare no output schema, so the contract types are named here. */
const OUTPUTS: Record<string, z.ZodType> = {
  'models.list': z.array(ModelRecordSchema),
  'models.get': ModelRecordSchema,
  infer: InferResponseSchema,
  'vad.detect': VadResultSchema,
  'devices.enroll': EnrollResponseSchema,
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete s['$schema'];
  return s;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ 'application/json': { schema } });
const componentName = (path: string, part: string) => `${path.split('.').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('')}${part}`;

interface ProcedureDef {
  type: 'query' | 'mutation' | 'subscription';
  inputs: z.ZodType[];
}

/** tRPC procedures as OpenAPI operations: queries GET with `?input=<JSON>`, mutations POST a JSON body. */
function trpcPaths(router: AnyRouter, schemas: Json): Json {
  const paths: Json = {};
  const procedures = (router._def as unknown as { procedures: Record<string, { _def: ProcedureDef }> }).procedures;
  for (const [path, proc] of Object.entries(procedures).sort(([a], [b]) => a.localeCompare(b))) {
    const def = proc._def;
    const input = def.inputs[0];
    const out = OUTPUTS[path];
    let inputRef: Json | undefined;
    if (input) {
      schemas[componentName(path, 'Input')] = jsonSchema(input, 'input');
      inputRef = ref(componentName(path, 'Input'));
    }
    if (out) schemas[componentName(path, 'Output')] = jsonSchema(out, 'output');
    const op: Json = {
      operationId: path,
      tags: ['tRPC'],
      summary: `tRPC ${def.type} ${path}`,
      responses: {
        '200': {
          description: 'tRPC result envelope',
          content: json({ type: 'object', properties: { result: { type: 'object', properties: { data: out ? ref(componentName(path, 'Output')) : {} } } } }),
        },
        default: { description: 'tRPC error envelope; error.data.lepton holds { code, message, details }', content: json(ref('TrpcError')) },
      },
    };
    if (def.type === 'query') {
      if (inputRef) op['parameters'] = [{ name: 'input', in: 'query', required: true, content: json(inputRef) }];
      paths[`/trpc/${path}`] = { get: op };
    } else {
      if (inputRef) op['requestBody'] = { required: true, content: json(inputRef) };
      paths[`/trpc/${path}`] = { post: op };
    }
  }
  return paths;
}

const modelParams = (withVersion: boolean) => [
  { name: 'name', in: 'path', required: true, schema: { type: 'string' }, example: 'silero-vad-v5' },
  ...(withVersion ? [{ name: 'version', in: 'path', required: true, schema: { type: 'string' } }] : []),
];

/** The Open Inference Protocol routes, written out: they are Fastify routes, not tRPC procedures. */
function kservePaths(): Json {
  const err = { description: '{ "error": message, "code": Lepton code }', content: json(ref('KserveError')) };
  const paths: Json = {
    '/v2/health/live': { get: { operationId: 'kserve.live', tags: ['KServe v2'], summary: 'Liveness', responses: { '200': { description: '{ live: true }' } } } },
    '/v2/health/ready': { get: { operationId: 'kserve.ready', tags: ['KServe v2'], summary: 'Readiness', responses: { '200': { description: '{ ready: true }' } } } },
    '/v2': { get: { operationId: 'kserve.server', tags: ['KServe v2'], summary: 'Server metadata', responses: { '200': { description: 'server metadata', content: json(ref('KserveServerMetadata')) } } } },
  };
  for (const v of [false, true]) {
    const base = v ? '/v2/models/{name}/versions/{version}' : '/v2/models/{name}';
    const suffix = v ? 'Version' : '';
    paths[base] = {
      get: { operationId: `kserve.metadata${suffix}`, tags: ['KServe v2'], summary: 'Model metadata', parameters: modelParams(v), responses: { '200': { description: 'model metadata', content: json(ref('KserveModelMetadata')) }, '404': err } },
    };
    paths[`${base}/ready`] = {
      get: { operationId: `kserve.modelReady${suffix}`, tags: ['KServe v2'], summary: 'Model readiness', parameters: modelParams(v), responses: { '200': { description: '{ name, version, ready: true }' }, '404': err } },
    };
    paths[`${base}/infer`] = {
      post: {
        operationId: `kserve.infer${suffix}`,
        tags: ['KServe v2'],
        summary: 'Inference (JSON tensors, or the binary tensor extension)',
        description:
          'JSON body, or a JSON header of Inference-Header-Content-Length bytes followed by the binary tensors in input order ' +
          '(each input with parameters.binary_data_size). Outputs come back binary when the request sets parameters.binary_data_output ' +
          'or an output sets parameters.binary_data. A full queue answers 503 with Retry-After.',
        parameters: [...modelParams(v), { name: 'Inference-Header-Content-Length', in: 'header', required: false, schema: { type: 'integer', minimum: 0 } }],
        requestBody: { required: true, content: { ...json(ref('KserveInferRequest')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        responses: {
          '200': { description: 'outputs', content: { ...json(ref('KserveInferResponse')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          '400': err,
          '404': err,
          '413': err,
          '503': err,
        },
      },
    };
  }
  return paths;
}

function otherPaths(): Json {
  const errors = { description: '{ code, message, details }', content: json(ref('ErrorBody')) };
  return {
    '/healthz': { get: { operationId: 'healthz', tags: ['Lepton HTTP'], summary: 'Health and registered models', responses: { '200': { description: 'ok' } } } },
    '/api/v1/vad/detect': {
      post: {
        operationId: 'vad.stream',
        tags: ['Lepton HTTP'],
        summary: 'Speech segments of a WAV streamed as the raw body',
        parameters: ['model', 'version', 'includeProbabilities', 'threshold', 'negThreshold', 'minSpeechMs', 'minSilenceMs', 'speechPadMs'].map((name) => ({
          name,
          in: 'query',
          required: false,
          schema: { type: 'string' },
        })),
        requestBody: { required: true, content: { 'audio/wav': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '200': { description: 'segments', content: json(ref('VadDetectOutput')) }, default: errors },
      },
    },
    '/metrics': { get: { operationId: 'metrics', tags: ['Lepton HTTP'], summary: 'Prometheus metrics (text format)', responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
  };
}

/** OpenAPI 3.1 for the whole HTTP surface, generated from the router's zod inputs and the contract schemas. */
export function buildOpenApi(router: AnyRouter, info: { version: string }): Json {
  const schemas: Json = {
    ErrorBody: jsonSchema(ErrorBodySchema, 'output'),
    TrpcError: {
      type: 'object',
      properties: {
        error: {
          type: 'object',
          properties: { message: { type: 'string' }, code: { type: 'integer' }, data: { type: 'object', properties: { code: { type: 'string' }, httpStatus: { type: 'integer' }, lepton: ref('ErrorBody') } } },
        },
      },
    },
    KserveError: jsonSchema(KserveErrorSchema, 'output'),
    KserveInferRequest: jsonSchema(KserveInferRequestSchema, 'input'),
    KserveInferResponse: jsonSchema(KserveInferResponseSchema, 'output'),
    KserveModelMetadata: jsonSchema(KserveModelMetadataSchema, 'output'),
    KserveServerMetadata: jsonSchema(KserveServerMetadataSchema, 'output'),
  };
  const paths = { ...trpcPaths(router, schemas), ...kservePaths(), ...otherPaths() };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lepton API',
      version: info.version,
      description: 'tRPC procedures (generated from their zod inputs), the KServe v2 / Open Inference Protocol REST API, and plain HTTP routes.',
    },
    tags: [{ name: 'tRPC' }, { name: 'KServe v2' }, { name: 'Lepton HTTP' }],
    paths,
    components: { schemas },
  };
}
