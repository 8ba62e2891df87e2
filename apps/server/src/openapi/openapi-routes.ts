import type { FastifyInstance } from 'fastify';
import { appRouter } from '@lepton/api';
import { buildOpenApi } from './openapi';
import { DOCS_HTML } from './docs-page';

/** GET /openapi.json (built once at start; the router does not change while running) and GET /docs. */
export function openApiRoutes(app: FastifyInstance): void {
  const doc = buildOpenApi(appRouter, { version: '0.1.0' });
  app.get('/openapi.json', async () => doc);
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_HTML));
}
