/**
 * Fleet benchmark on loopback, real processes: one server and N agents (default 10).
 *   cold start   - ms from spawning an agent to its first local answer: first start (enroll + download) and a
 *                  start from its cache
 *   RSS          - an agent's resident memory (MB) after serving 200 infer calls
 *   deploy       - ms from deployments.create of a new version to every agent reporting it installed
 * Run: node --import tsx apps/edge-agent/bench/fleet.ts [agents]. Prints numbers; never fails on timing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnAgent, spawnServer, type Proc } from '../test/processes';
import { MODEL, admin, eventually, rebuiltSilero, registerVersion, trpc } from '../test/fleet-helpers';

const N = Math.max(1, Number(process.argv[2] ?? 10));
const TOKEN = 'edge-fleet-bench-token';
const POLL = { EDGE_POLL_MS: '500', EDGE_BACKOFF_MAX_MS: '2000' };
const tmp = mkdtempSync(join(tmpdir(), 'lepton-fleet-bench-'));
const frame = Buffer.from(new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.2).buffer).toString('base64');
const inputs = [
  { name: 'input', dtype: 'float32' as const, shape: [1, 576], data: frame },
  { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
];

async function firstLocalAnswer(serverUrl: string, dataDir: string, token?: string): Promise<{ ms: number; agent: Proc }> {
  const t0 = performance.now();
  const agent = await spawnAgent({ serverUrl, dataDir, ...(token ? { token } : {}), extra: POLL });
  const r = await trpc(agent.url).infer.mutate({ model: MODEL, inputs });
  if (r.answeredBy !== 'edge') throw new Error(`first answer came from ${r.answeredBy}, expected edge`);
  return { ms: performance.now() - t0, agent };
}

function rssMb(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) / 1024;
}

const server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN, pollMs: 500 });
const agents: Proc[] = [];
try {
  const first = await firstLocalAnswer(server.url, join(tmp, 'edge-0'), TOKEN);
  await first.agent.stop();
  const cached = await firstLocalAnswer(server.url, join(tmp, 'edge-0'));
  agents.push(cached.agent);
  const client = trpc(cached.agent.url);
  for (let i = 0; i < 200; i++) await client.infer.mutate({ model: MODEL, inputs });
  const rss = rssMb(cached.agent.child.pid!);
  console.log(`cold start to first local answer: first start ${first.ms.toFixed(0)} ms (enroll + download + load), cached start ${cached.ms.toFixed(0)} ms`);
  console.log(`agent RSS while serving: ${rss.toFixed(1)} MB`);

  const t0 = performance.now();
  agents.push(...(await Promise.all(Array.from({ length: N - 1 }, (_, i) => spawnAgent({ serverUrl: server.url, dataDir: join(tmp, `edge-${i + 1}`), token: TOKEN, extra: POLL })))));
  console.log(`${N} agents enrolled and serving after ${(performance.now() - t0).toFixed(0)} ms (started together)`);

  await registerVersion(server.url, '5.1.0', rebuiltSilero('fleet bench build'));
  const t1 = performance.now();
  const dep = await admin(server.url).deployments.create.mutate({ model: MODEL, version: '5.1.0', target: { all: true } });
  await eventually(
    `${N} agents to install 5.1.0`,
    async () => {
      const s = await admin(server.url).deployments.status.query({ id: dep.id });
      const done = (s.counts['installed'] ?? 0) + (s.counts['healthy'] ?? 0);
      return done >= N ? done : undefined;
    },
    600,
    50,
  );
  const deployMs = performance.now() - t1;
  const versions = await Promise.all(agents.map(async (a) => (await trpc(a.url).models.get.query({ id: MODEL })).version));
  console.log(`deploy 5.1.0 to ${N} agents: ${deployMs.toFixed(0)} ms until all reported installed (poll ${POLL.EDGE_POLL_MS} ms +-20%); versions now: ${[...new Set(versions)].join(', ')}`);
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
