import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { loadConfig, startServer, type StartedServer } from '@lepton/server';
import { conformanceManifest, fromWire, toWire, type PathRunner } from './paths';

/**
 * Lepton's server path: the test model is registered in the real server's registry under a generic manifest
 * derived from its graph (in-process service call: the registry has no upload procedure), then every data set
 * goes TensorProto -> Lepton tensor -> JSON wire (base64, through JSON text) -> HTTP POST /trpc/infer ->
 * decodeWireTensor -> predictor (manifest validation, onnxruntime-node) -> encodeWireTensor -> HTTP -> decoded.
 * The server restarts every `restartEvery` models because it keeps one session per model version for its life.
 */
export function leptonServerPath(opts: { restartEvery?: number; sessionsPerModel?: number } = {}): PathRunner {
  const restartEvery = opts.restartEvery ?? 150;
  const sessionsPerModel = opts.sessionsPerModel ?? 1;
  let server: StartedServer | undefined;
  let dataDir: string | undefined;
  let opened = 0;
  let client: ReturnType<typeof createTRPCClient<AppRouter>> | undefined;

  const stop = async () => {
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    server = undefined;
    client = undefined;
  };
  const ensure = async () => {
    if (server && opened % restartEvery !== 0) return server;
    await stop();
    dataDir = mkdtempSync(join(tmpdir(), 'lepton-conformance-'));
    // One session per model (the default pool is 2): each session is a worker thread loading onnxruntime-node, and
    // a test runs one request at a time, so the second session only doubled the path's time (measured 0.3-0.6 s of
    // a test's first request here). The session still runs on a worker thread, as in production.
    server = await startServer(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: dataDir, LEPTON_LOG_LEVEL: 'silent', LEPTON_SESSIONS_PER_MODEL: String(sessionsPerModel) }),
    );
    // If the server asks for credentials (API keys), use the admin key a fresh data folder bootstraps.
    const key = (server as { adminKey?: string }).adminKey;
    client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) })] });
    return server;
  };

  return {
    id: 'lepton-server',
    label: 'Lepton: wire format -> server infer over HTTP (onnxruntime-node)',
    async open({ key, model, dataSets }) {
      const s = await ensure();
      opened++;
      const manifest = conformanceManifest(key, model, dataSets[0]);
      await s.registry.register(manifest, [{ precision: 'fp32', target: 'any', source: model }]);
      const trpc = client!;
      return {
        async run(set, outputNames) {
          try {
            const res = await trpc.infer.mutate({ model: key, version: '1', inputs: toWire(set), outputs: outputNames });
            return fromWire(JSON.parse(JSON.stringify(res.outputs)));
          } catch (e) {
            throw new Error(leptonMessage(e));
          }
        },
        release: () => Promise.resolve(),
      };
    },
    close: stop,
  };
}

/** `CODE: message` from a tRPC error carrying our error body. */
export function leptonMessage(e: unknown): string {
  if (e instanceof TRPCClientError) {
    const lepton = (e.data as { lepton?: { code: string; message: string } } | undefined)?.lepton;
    if (lepton) return `${lepton.code}: ${lepton.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}
