import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { bundledModelPath } from '@lepton/node-platform';
import { ADMIN_KEY } from './processes';

export const MODEL = 'silero-vad-v5';
export const SILERO = readFileSync(bundledModelPath(MODEL));

export function trpc(url: string, key?: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });
}

export function admin(url: string) {
  return trpc(url, ADMIN_KEY);
}

/**
 * Silero with an unknown protobuf field appended (field 1000, bytes): onnxruntime ignores it, so this is a new,
 * working artifact with its own digest, the way a rebuilt model would be.
 */
export function rebuiltSilero(label: string): Buffer {
  const payload = Buffer.from(label);
  return Buffer.concat([SILERO, Buffer.from([0xc2, 0x3e, payload.length]), payload]);
}

/** Bytes that are not an ONNX model at all: the version registers and verifies, then fails to load. */
export const BROKEN = Buffer.from('this is not an onnx model '.repeat(200));

/** Register silero's manifest under `version` with one fp32 variant of `bytes`. */
export async function registerVersion(serverUrl: string, version: string, bytes: Buffer) {
  const a = admin(serverUrl);
  const manifest = { ...(await a.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, version };
  return a.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: bytes.toString('base64') }] });
}

export interface ProxyOptions {
  /** Bytes per second for artifact bodies (slow links, so a kill lands mid-download). */
  artifactBytesPerSec?: number;
  /** Called when an artifact response starts (with the request's Range header). */
  onArtifact?: (range: string | undefined) => void;
  /** Rewrite a whole artifact body. */
  artifact?: (body: Buffer) => Buffer;
  /** Rewrite the JSON of a tRPC response, by procedure path (e.g. 'fleet.sync'). */
  json?: (path: string, body: unknown) => unknown;
}

/** A man in the middle between agents and the server, on loopback: throttles or tampers with what passes. */
export async function startProxy(target: string, opts: ProxyOptions): Promise<{ url: string; close(): Promise<void>; server: Server }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (upRes: IncomingMessage) => {
      const isArtifact = /\/artifact/.test(req.url ?? '');
      const trpcPath = /^\/trpc\/([^?]+)/.exec(req.url ?? '')?.[1];
      const rewrite = (isArtifact && opts.artifact) || (trpcPath !== undefined && opts.json);
      if (isArtifact && upRes.statusCode && upRes.statusCode < 300) opts.onArtifact?.(req.headers.range as string | undefined);
      if (rewrite) {
        const parts: Buffer[] = [];
        upRes.on('data', (c: Buffer) => parts.push(c));
        upRes.on('end', () => {
          let body: Buffer = Buffer.concat(parts);
          if (isArtifact && opts.artifact) body = opts.artifact(body);
          if (trpcPath !== undefined && opts.json) {
            const parsed = JSON.parse(body.toString('utf8')) as unknown;
            body = Buffer.from(JSON.stringify(opts.json(trpcPath, parsed)));
          }
          const headers = { ...upRes.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(upRes.statusCode ?? 502, headers);
          res.end(body);
        });
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (isArtifact && opts.artifactBytesPerSec) {
        // Pass 16 KiB at a time, paced.
        const perChunkMs = (16384 / opts.artifactBytesPerSec) * 1000;
        upRes.on('data', (c: Buffer) => {
          upRes.pause();
          res.write(c);
          setTimeout(() => upRes.resume(), (c.length / 16384) * perChunkMs);
        });
        upRes.on('end', () => res.end());
      } else {
        upRes.pipe(res);
      }
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `probe` until it returns a value (bounded by `attempts` x `everyMs`); throws with `what` otherwise. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, attempts = 150, everyMs = 200): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
