import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { ErrorBody } from '@lepton/contracts';

/**
 * Answers for what no route handles, in the Lepton error shape instead of Fastify's
 * `{ error, message, statusCode }` without a code: unknown routes and wrong methods (ROUTE_NOT_FOUND, 404), URLs
 * the router cannot decode, and malformed HTTP (BAD_REQUEST). Paths under /v2 answer in the KServe shape
 * `{ error, code }` like the KServe routes do.
 */

const MAX_PATH_SHOWN = 200;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > MAX_PATH_SHOWN ? `${path.slice(0, MAX_PATH_SHOWN)}...` : path;
}

function isKservePath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

function send(reply: FastifyReply, status: number, body: ErrorBody, path: string): FastifyReply {
  reply.code(status).type('application/json; charset=utf-8');
  return reply.send(isKservePath(path) ? { error: body.message, code: body.code } : body);
}

/**
 * The 404 for a method + path no route takes. Fastify answers a known path with another method the same way, so
 * the message names both; it points at /openapi.json where the host serves one (the server, not the edge agent).
 */
export function sendRouteNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = pathOf(request.url);
  const hint = request.server.hasRoute({ method: 'GET', url: '/openapi.json' }) ? '; see /openapi.json for the routes' : '';
  return send(reply, 404, { code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${path}${hint}`, details: { method: request.method, path } }, path);
}

/** Fastify's own request errors before routing (a URL that does not decode, a path parameter past maxParamLength). */
function frameworkErrors(err: Error & { code?: string; statusCode?: number }, request: FastifyRequest, reply: FastifyReply): void {
  const path = pathOf(request.url);
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  void send(reply, status, { code: 'BAD_REQUEST', message: `${request.method} ${path}: ${err.message}`, details: { reason: err.code } }, path);
}

/**
 * Node's 'clientError' (malformed request line or headers, a header block past the size limit, a connection that
 * ends inside the request, e.g. a cut-off upload, or a request that does not arrive in time): the status Fastify
 * would pick with the code that has it (400 BAD_REQUEST, 431 HEADERS_TOO_LARGE, 408 REQUEST_TIMEOUT) and a message
 * naming what was wrong. Nothing is written when a response is already under way or the socket is gone.
 */
function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const message =
      status === 408
        ? 'the request did not arrive completely within the server request timeout'
        : status === 431
          ? `the request headers are larger than the ${(this.initialConfig as { maxHeaderSize?: number }).maxHeaderSize ?? maxHeaderSize} bytes accepted`
          : err.code === 'HPE_INVALID_EOF_STATE'
            ? 'the connection ended before the request was complete (HPE_INVALID_EOF_STATE): a body shorter than its Content-Length, or cut-off headers'
            : `malformed HTTP request (${err.code ?? 'parse error'}: ${err.message}); expected an HTTP/1.1 request line, headers and a body of the length declared`;
    const code = status === 408 ? 'REQUEST_TIMEOUT' : status === 431 ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
    const body = JSON.stringify({ code, message, details: { reason: err.code ?? null } } satisfies ErrorBody);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * Fastify factory options both hosts pass (`Fastify({ ...leptonFastifyOptions(), ... })`): these handlers run
 * before any plugin, so registerLeptonHttp cannot install them itself. It does set the 404 handler.
 */
export function leptonFastifyOptions(): Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'> {
  return { clientErrorHandler, frameworkErrors } as Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'>;
}
