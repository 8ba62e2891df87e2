import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWireTensor } from '@lepton/contracts';
import type { StartedServer } from '../src';
import { startTestServer, tempDataDir, trpcClient } from './helpers';

/**
 * parity.run's 'edge' platform when the agent fails: the row says why with a Lepton code. An unreachable URL was
 * `INTERNAL: fetch failed`, and an agent's own error (say INPUT_MISSING) lost its code and came back as INTERNAL.
 */
let server: StartedServer;
let notLepton: Server;
let closedPort: number;

const listen = (s: Server) => new Promise<number>((done) => s.listen(0, '127.0.0.1', () => done((s.address() as AddressInfo).port)));

beforeAll(async () => {
  server = await startTestServer(tempDataDir());
  notLepton = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello, not a Lepton agent'));
  await listen(notLepton);
  const gone = createServer();
  closedPort = await listen(gone);
  await new Promise((done) => gone.close(done));
});

afterAll(async () => {
  await new Promise((done) => notLepton?.close(done));
  await server?.close();
});

// Only `input`: every Lepton host answers INPUT_MISSING for `state`.
const inputs = [encodeWireTensor('input', { dtype: 'float32', shape: [1, 576], data: new Float32Array(576) })];

async function edgeRow(edgeUrl: string) {
  const report = await trpcClient(server.url).parity.run.mutate({ model: 'silero-vad-v5', inputs, platforms: ['edge'], edgeUrl });
  expect(report.platforms.map((p) => p.platform)).toEqual(['edge']);
  const row = report.platforms[0]!;
  expect(row.ok).toBe(false);
  return row.error!;
}

describe('parity.run edge errors', () => {
  it('an edge URL where nothing listens is UPSTREAM_UNAVAILABLE naming it', async () => {
    const url = `http://127.0.0.1:${closedPort}`;
    const error = await edgeRow(url);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message).toMatch(new RegExp(`^edge agent ${url} did not answer as a Lepton agent: .*ECONNREFUSED`));
  });

  it('an HTTP server that is not a Lepton agent is UPSTREAM_UNAVAILABLE too', async () => {
    const url = `http://127.0.0.1:${(notLepton.address() as AddressInfo).port}`;
    const error = await edgeRow(url);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.message.startsWith(`edge agent ${url} did not answer as a Lepton agent: `)).toBe(true);
  });

  it("a Lepton host's own error keeps its code and message", async () => {
    const error = await edgeRow(server.url);
    expect(error).toEqual({ code: 'INPUT_MISSING', message: `edge agent ${server.url}: model silero-vad-v5@5.0.0 needs input 'state'; got 'input'` });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
