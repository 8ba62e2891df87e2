import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { isLeptonError } from '@lepton/tensor-core';
import { appRouter, type AppRouter, type LeptonServices } from '@lepton/api';
import { ERROR_CODES, type ErrorBody } from '@lepton/contracts';
import { VAD_STREAM_PATH, vadStreamRoute } from './vad-stream-route';
import { httpErrorOf, isMediaTypeError, unsupportedMediaType } from './error-reply';
import { sendRouteNotFound } from './fallback-errors';
import { kserveRoutes, type KserveRouteOptions } from '../kserve/kserve-routes';

export interface LeptonHttpOptions {
  /** Where tRPC is mounted (default /trpc). */
  trpcPrefix?: string;
  /** Largest tRPC request body in bytes (default 64 MiB: inline WAVs and JSON tensors travel in it). */
  maxTrpcBodyBytes?: number;
  /** Limits of the KServe v2 routes (body and decoded tensor sizes). */
  kserve?: KserveRouteOptions;
}

/** What GET /healthz answers. */
export interface HealthBody {
  status: 'ok';
  platform: LeptonServices['platform'];
  models: { id: string; version: string }[];
}

class TrpcMediaTypeError extends Error {
  constructor(readonly contentType: string | undefined) {
    super('unsupported content type');
  }
}

/**
 * The 413 of a tRPC body over the limit, naming the route, the body's size and the limit. Only vad.detect has a
 * streaming twin without that limit, so only its callers are sent there.
 */
function bodyTooLarge(request: FastifyRequest, limit: number): ErrorBody {
  const q = request.url.indexOf('?');
  const path = (q < 0 ? request.url : request.url.slice(0, q)).slice(0, 200);
  const header = request.headers['content-length'];
  const declared = header === undefined ? NaN : Number(header);
  // Fastify refuses a declared length at once; a chunked body only once its bytes pass the limit.
  const size = declared > limit ? `is ${declared} bytes` : `passed ${limit} bytes${header === undefined ? ' (chunked, no content-length)' : ''}`;
  const mib = limit % (1024 * 1024) === 0 ? ` (${limit / (1024 * 1024)} MiB)` : '';
  const vad = /(^|[/,])vad\.detect(,|$)/.test(path)
    ? `; send WAVs larger than that as the raw body of POST ${VAD_STREAM_PATH}, which reads them as they arrive`
    : '';
  return {
    code: 'BODY_TOO_LARGE',
    message: `${request.method} ${path}: the request body ${size}; tRPC requests take at most ${limit} bytes${mib}${vad}`,
    details: { limit, ...(declared > limit ? { size: declared } : {}) },
  };
}

/**
 * Mount the Lepton API on a Fastify instance: tRPC at /trpc, GET /healthz (+ the KServe v2 liveness and
 * readiness probes), the streaming POST /api/v1/vad/detect, and the ROUTE_NOT_FOUND 404 for everything else.
 * The server and the edge agent both call this (on their root instance, with leptonFastifyOptions() in the
 * factory), so they serve identical APIs over their own services.
 */
export async function registerLeptonHttp(
  app: FastifyInstance,
  services: LeptonServices,
  opts: LeptonHttpOptions = {},
): Promise<void> {
  const bodyLimit = opts.maxTrpcBodyBytes ?? 64 * 1024 * 1024;
  // Unknown routes and wrong methods answer ROUTE_NOT_FOUND (the KServe shape under /v2), not Fastify's codeless
  // 404; static file plugins of the host fall through to it too.
  app.setNotFoundHandler((request, reply) => sendRouteNotFound(request, reply));
  await app.register(async (scope) => {
    // tRPC registers its route without a bodyLimit; give it ours without touching the host's default.
    scope.addHook('onRoute', (route) => {
      route.bodyLimit ??= bodyLimit;
    });
    // Fastify rejects some requests before tRPC sees them (body over the limit, malformed JSON): answer those in
    // tRPC's error envelope too, so typed clients still get data.lepton rather than an opaque failure.
    // tRPC takes JSON bodies only. Checked before the body is read, so a text/plain or missing content type (which
    // Fastify would parse and tRPC then reject) and one Fastify has no parser for get the same typed 415.
    scope.addHook('onRequest', async (request) => {
      if (request.method !== 'POST') return;
      const type = request.headers['content-type'];
      if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) throw new TrpcMediaTypeError(type);
    });
    scope.setErrorHandler((err, request, reply) => {
      const { status, body } =
        err instanceof TrpcMediaTypeError || isMediaTypeError(err)
          ? unsupportedMediaType(request.headers['content-type'], ['application/json'])
          : httpErrorOf(err);
      const lepton = body.code === 'BODY_TOO_LARGE' ? bodyTooLarge(request, bodyLimit) : body;
      // The tRPC code follows our code (413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE), as for procedure errors.
      const trpcCode = status >= 500 ? 'INTERNAL_SERVER_ERROR' : ERROR_CODES[lepton.code].trpc;
      return reply.code(status).send({
        error: {
          message: lepton.message,
          code: TRPC_ERROR_CODES_BY_KEY[trpcCode],
          data: { code: trpcCode, httpStatus: status, zodError: null, lepton },
        },
      });
    });
    const trpc: FastifyTRPCPluginOptions<AppRouter> = {
      prefix: opts.trpcPrefix ?? '/trpc',
      trpcOptions: {
        router: appRouter,
        // Hosts that authenticate (the server) put the caller in ctx.auth; a credential that matches nothing fails
        // the request with UNAUTHORIZED before any procedure runs.
        createContext: async ({ req }) =>
          services.auth ? { services, auth: { principal: await services.auth.authenticate(req.headers.authorization) } } : { services },
        // An overloaded model (QUEUE_FULL / QUEUE_TIMEOUT, HTTP 503) tells the client when to come back.
        responseMeta({ errors }) {
          const busy = errors.some((e) => isLeptonError(e.cause) && (e.cause.code === 'QUEUE_FULL' || e.cause.code === 'QUEUE_TIMEOUT'));
          return busy ? { headers: { 'retry-after': '1' } } : {};
        },
        onError({ error, path }) {
          if (error.code === 'INTERNAL_SERVER_ERROR') scope.log.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
        },
      },
    };
    await scope.register(fastifyTRPCPlugin, trpc);
  });

  await app.register(async (scope) => vadStreamRoute(scope, services));
  await app.register(async (scope) => kserveRoutes(scope, services, opts.kserve));

  app.get('/healthz', async (): Promise<HealthBody> => {
    const models = await services.models.list();
    return { status: 'ok', platform: services.platform, models: models.map((m) => ({ id: m.id, version: m.version })) };
  });
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async () => ({ ready: true }));
}
