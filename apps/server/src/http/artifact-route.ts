import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LeptonError, isLeptonError } from '@lepton/tensor-core';
import { PrecisionSchema, VariantTargetSchema, type Variant } from '@lepton/contracts';
import { selectVariant } from '@lepton/api';
import { sendHttpError } from '@lepton/node-platform';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelRegistry } from '../registry/model-registry';
import type { Device, DeviceRegistry } from '../devices/device-registry';
import type { DeploymentService } from '../deployments/deployment-service';
import { parseRange } from './range';

const QuerySchema = z.strictObject({
  version: z.string().min(1).max(64).optional(),
  /** A variant id from the model record (wins over precision). */
  variant: z.string().min(1).max(64).optional(),
  precision: PrecisionSchema.optional(),
  /** Ask for the variant built for a target (web, edge, server, any); see selectVariant in @lepton/api. */
  target: VariantTargetSchema.optional(),
});

interface Deps {
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  devices: DeviceRegistry;
  /** When present, a device may download only versions deployed to it (FORBIDDEN otherwise). */
  deployments?: DeploymentService;
}

type ArtifactRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * Model bytes, streamed with their digest in x-lepton-sha256 so the receiver verifies before it caches.
 * - GET /api/v1/models/:id/artifact: for enrolled devices (Authorization: Bearer <credential>); the credential
 *   identifies the device (logged, last_seen_at) and picks edge-targeted variants.
 * - GET /api/v1/web/models/:id/artifact: for the web app this server serves; no credential, because a browser
 *   has none and every visitor of the page can run the model anyway (web-targeted variants).
 * Query: version, variant (id), target (the variant built for web, edge or server) and/or precision (default
 * fp32; without `target`, the route's own target is preferred among variants of that precision).
 * Both take GET and HEAD, and one byte range (see parseRange): 206, or 416 RANGE_NOT_SATISFIABLE.
 */
export async function artifactRoute(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      // A 416 says how long the artifact is, so the client can ask again with a range that fits (RFC 9110 §14.4).
      if (isLeptonError(err) && err.code === 'RANGE_NOT_SATISFIABLE') {
        reply.header('content-range', `bytes */${String(err.details?.['size'])}`).header('accept-ranges', 'bytes');
      }
      return sendHttpError(reply, err);
    });
    // HEAD is its own route so it answers from the record without opening (and draining) the file.
    scope.route({
      method: ['GET', 'HEAD'],
      url: '/api/v1/models/:id/artifact',
      handler: async (request: ArtifactRequest, reply) => {
        const device = await deps.devices.authenticate(request.headers.authorization);
        return sendArtifact(deps, request, reply, 'edge', { device: device.id }, device);
      },
    });
    scope.route({
      method: ['GET', 'HEAD'],
      url: '/api/v1/web/models/:id/artifact',
      handler: async (request: ArtifactRequest, reply) => sendArtifact(deps, request, reply, 'web', { device: 'browser' }),
    });
  });
}

async function sendArtifact(
  deps: Deps,
  request: ArtifactRequest,
  reply: FastifyReply,
  target: string,
  who: { device: string },
  device?: Device,
) {
  const query = QuerySchema.safeParse(request.query ?? {});
  if (!query.success) {
    const issue = query.error.issues[0]!;
    throw new LeptonError('VALIDATION_FAILED', `query ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { version, variant: variantId, precision, target: asked } = query.data;
  const id = request.params.id;
  let resolved: { record: { id: string; version: string }; variant: Variant };
  if (variantId !== undefined) {
    const record = await deps.registry.get(id, version);
    const variant = record.variants.find((v) => v.id === variantId);
    if (!variant) {
      throw new LeptonError('ARTIFACT_NOT_FOUND', `model ${record.id}@${record.version} has no variant ${JSON.stringify(variantId)}; variants: ${record.variants.map((v) => v.id).join(', ') || '(none)'}`, {
        id,
        variant: variantId,
      });
    }
    resolved = { record, variant };
  } else if (asked !== undefined) {
    const record = await deps.registry.get(id, version);
    resolved = { record, variant: selectVariant(record, { target: asked, ...(precision !== undefined ? { precision } : {}) }) };
  } else {
    resolved = await deps.registry.resolveVariant(id, { ...(version !== undefined ? { version } : {}), precision: precision ?? 'fp32', target });
  }
  const { record, variant } = resolved;
  if (!(await deps.artifacts.has(variant.sha256, variant.size))) {
    throw new LeptonError('ARTIFACT_NOT_FOUND', `artifact of ${record.id}@${record.version} (${variant.id}) is missing from the store`, {
      sha256: variant.sha256,
    });
  }
  if (device && deps.deployments) {
    const row = await deps.deployments.allows({ id: device.id, group_name: device.group ?? null }, record.id, record.version, device.capabilities);
    if (!row) {
      throw new LeptonError('FORBIDDEN', `model ${record.id}@${record.version} is not deployed to device ${device.id}`, { device: device.id });
    }
  }
  // Byte ranges (RFC 9110 §14): `Range: bytes=N-` is what the edge agent sends after an interrupted transfer;
  // `a-b` and suffix `-n` work too. ETag is the digest, so If-Range protects a resume against a changed artifact.
  // Range is defined for GET only, so HEAD ignores it and describes the whole body.
  const etag = `"sha256:${variant.sha256}"`;
  const range = request.method === 'GET' ? parseRange(request.headers.range, headerText(request.headers['if-range']), variant.size, etag) : undefined;
  if (request.method === 'GET') {
    request.log.info({ ...who, model: record.id, version: record.version, variant: variant.id, from: range?.start ?? 0, to: range?.end ?? variant.size - 1 }, 'artifact download');
  }
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${variant.size}`);
  reply
    .header('content-type', 'application/octet-stream')
    .header('accept-ranges', 'bytes')
    .header('content-length', String(range ? range.end - range.start + 1 : variant.size))
    .header('x-lepton-sha256', variant.sha256)
    .header('x-lepton-model', record.id)
    .header('x-lepton-version', headerSafe(record.version))
    .header('x-lepton-variant', variant.id)
    .header('etag', etag);
  if (request.method === 'HEAD') return reply.send();
  return reply.send(range ? deps.artifacts.openStream(variant.sha256, range.start, range.end) : deps.artifacts.openStream(variant.sha256));
}

/**
 * A header value Node will send: visible ASCII as it is, anything else percent-encoded (UTF-8). A version such as
 * 'ünïcode' threw ERR_INVALID_CHAR inside the reply and the client got a torn connection instead of the file.
 */
function headerSafe(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
