import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { ModelManifestInput } from '@lepton/contracts';
import type { AppRouter } from '@lepton/api';
import { HeadlessBrowser, loadConfig, startServer, type StartedServer } from '@lepton/server';
import { loadEdgeConfig, startEdgeAgent, type EdgeAgent } from '@lepton/edge-agent';
import { buildWebApp } from './lepton-browser-path';

export type Client = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface Platforms {
  server: StartedServer;
  edge: EdgeAgent;
  browser: HeadlessBrowser;
  serverClient: Client;
  edgeClient: Client;
  close(): Promise<void>;
}

export const client = (url: string, key?: string): Client =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) })] });

const ENROLL_TOKEN = 'conformance-enroll-token';

/**
 * The real platforms side by side: a server (with the built web app), an edge agent enrolled with it and running
 * `models` locally, and a headless Chromium on the server's web app. Models are registered before the agent
 * starts so it pulls them at start-up.
 */
export async function startPlatforms(models: { manifest: ModelManifestInput; bytes: Uint8Array }[], opts: { edgeEnv?: Record<string, string> } = {}): Promise<Platforms> {
  const webDir = await buildWebApp();
  const dataDir = mkdtempSync(join(tmpdir(), 'lepton-platforms-'));
  const server = await startServer(
    loadConfig({ PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: join(dataDir, 'server'), LEPTON_WEB_DIR: webDir, LEPTON_LOG_LEVEL: 'silent', LEPTON_ENROLL_TOKEN: ENROLL_TOKEN }),
  );
  // The server deploys what it finds registered at start; models registered later get their default deployment here,
  // so the edge agent runs them itself instead of forwarding to the server.
  const deployments = (server as { deployments?: { ensureDefault?(id: string, version: string): Promise<unknown> } }).deployments;
  for (const m of models) {
    const { record } = await server.registry.register(m.manifest, [{ precision: 'fp32', target: 'any', source: m.bytes }]);
    await deployments?.ensureDefault?.(record.id, record.version);
  }
  const ids = ['silero-vad-v5', ...models.map((m) => String(m.manifest.id))];
  const edge = await startEdgeAgent(
    loadEdgeConfig({ EDGE_PORT: '0', EDGE_HOST: '127.0.0.1', LEPTON_SERVER_URL: server.url, LEPTON_ENROLL_TOKEN: ENROLL_TOKEN, EDGE_DATA_DIR: join(dataDir, 'edge'), EDGE_MODELS: ids.join(','), ...opts.edgeEnv }),
  );
  const browser = await HeadlessBrowser.open(server.url);
  return {
    server,
    edge,
    browser,
    // The admin key a fresh data folder bootstraps, in case the server asks for credentials.
    serverClient: client(server.url, (server as { adminKey?: string }).adminKey),
    edgeClient: client(edge.url),
    async close() {
      await browser.close().catch(() => undefined);
      await edge.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(webDir, { recursive: true, force: true });
    },
  };
}
