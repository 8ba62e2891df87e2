import type { FastifyInstance, FastifyReply } from 'fastify';
import { LeptonError } from '@lepton/tensor-core';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '@lepton/contracts';
import type { LeptonServices } from '@lepton/api';
import { httpErrorOf } from '../http/error-reply';
import { decodeKserveRequest, encodeKserveResponse, runKserveRequest } from './kserve-infer';
import { KSERVE_SERVER_METADATA, kserveModelMetadata } from './kserve-metadata';

export interface KserveRouteOptions {
  /** Largest request body (JSON + binary tensors); default 64 MiB + 1 MiB for the header. */
  maxBodyBytes?: number;
  /** Largest decoded tensor; default 64 MiB. */
  maxTensorBytes?: number;
}

interface ModelParams {
  name: string;
  version?: string;
}

/** `{ "error": message }` with the status our code maps to; overload answers carry Retry-After. */
function sendKserveError(reply: FastifyReply, err: unknown, bodyLimit: number): FastifyReply {
  // Fastify's own "Request body is too large" (code BAD_REQUEST) names neither the limit nor the tensor code the
  // per-tensor check gives: answer a body past the route's limit as TENSOR_TOO_LARGE naming the limit.
  const tooLarge = (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
  const { status, body } = tooLarge
    ? httpErrorOf(
        new LeptonError(
          'TENSOR_TOO_LARGE',
          `request body is larger than the ${bodyLimit} bytes KServe infer accepts (JSON header and binary tensors together); send fewer or smaller tensors`,
          { limit: bodyLimit },
        ),
      )
    : httpErrorOf(err);
  if (status >= 500) reply.log.error({ err }, 'KServe request failed');
  if (body.code === 'QUEUE_FULL' || body.code === 'QUEUE_TIMEOUT') {
    const after = Number((body.details as { retryAfterSec?: number } | undefined)?.retryAfterSec ?? 1);
    reply.header('retry-after', String(Math.max(1, Math.ceil(after))));
  }
  return reply.code(status).type('application/json; charset=utf-8').send({ error: body.message, code: body.code });
}

/**
 * The Open Inference Protocol (KServe v2) REST API: server and model metadata, model readiness, and infer with
 * JSON tensors or the binary tensor extension. Mounted by registerLeptonHttp, so the server and the edge agent
 * both speak it. Health (/v2/health/live|ready) is registered there too.
 */
export async function kserveRoutes(scope: FastifyInstance, services: LeptonServices, opts: KserveRouteOptions = {}): Promise<void> {
  const limits = { maxTensorBytes: opts.maxTensorBytes ?? 64 * 1024 * 1024 };
  const bodyLimit = opts.maxBodyBytes ?? limits.maxTensorBytes + 1024 * 1024;
  // Binary requests may come as application/octet-stream, application/json or with no type at all (Triton's
  // clients differ): take every body as bytes and let the Inference-Header-Content-Length header decide.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  scope.setErrorHandler((err, _request, reply) => sendKserveError(reply, err, bodyLimit));

  scope.get('/v2', async () => KSERVE_SERVER_METADATA);

  const versionsOf = async (name: string) =>
    (await services.models.list()).filter((m) => m.id === name).map((m) => m.version);

  const metadata = async (p: ModelParams) => {
    const record = await services.models.get(p.name, p.version);
    return kserveModelMetadata(record, await versionsOf(record.id));
  };
  scope.get<{ Params: ModelParams }>('/v2/models/:name', async (request) => metadata(request.params));
  scope.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version', async (request) => metadata(request.params));

  // Ready once registered: sessions load on the first request, which then waits for them instead of failing.
  const ready = async (p: ModelParams) => {
    const record = await services.models.get(p.name, p.version);
    return { name: record.id, version: record.version, ready: true };
  };
  scope.get<{ Params: ModelParams }>('/v2/models/:name/ready', async (request) => ready(request.params));
  scope.get<{ Params: ModelParams }>('/v2/models/:name/versions/:version/ready', async (request) => ready(request.params));

  const infer = async (params: ModelParams, body: unknown, headerLength: string | string[] | undefined, reply: FastifyReply) => {
    if (!(body instanceof Uint8Array) || body.length === 0) {
      throw new LeptonError('BAD_REQUEST', 'request body is empty; expected an inference request (JSON, optionally followed by binary tensors)');
    }
    const header = Array.isArray(headerLength) ? headerLength[0] : headerLength;
    const req = decodeKserveRequest(body, header, limits);
    const res = await runKserveRequest(services, params.name, params.version, req, limits);
    const out = encodeKserveResponse(req, res);
    if ('json' in out) return reply.type('application/json; charset=utf-8').send(out.json);
    return reply
      .type('application/octet-stream')
      .header(INFERENCE_HEADER_CONTENT_LENGTH, String(out.headerLength))
      .send(Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength));
  };
  scope.post<{ Params: ModelParams }>('/v2/models/:name/infer', (request, reply) =>
    infer(request.params, request.body, request.headers[INFERENCE_HEADER_CONTENT_LENGTH], reply),
  );
  scope.post<{ Params: ModelParams }>('/v2/models/:name/versions/:version/infer', (request, reply) =>
    infer(request.params, request.body, request.headers[INFERENCE_HEADER_CONTENT_LENGTH], reply),
  );
}
