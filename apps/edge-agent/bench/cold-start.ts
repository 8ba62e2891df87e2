/**
 * Edge agent cold start: milliseconds from spawning the agent process to its first VAD answer (the quick
 * fixture, POSTed to the streaming route), in three situations measured side by side in one run:
 *   first start   - enroll with the token, download + verify + cache the model, load it
 *   cached        - identity and model from disk, server up (manifest checked, no download)
 *   offline       - server stopped, everything from the cache
 * Run: node --import tsx apps/edge-agent/bench/cold-start.ts [rounds]. Prints numbers; never fails on timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postWavStream } from '@lepton/node-platform';
import { speechFixture } from '@lepton/test-fixtures';
import { spawnAgent, spawnServer, type Proc } from '../test/processes';

const rounds = Math.max(1, Number(process.argv[2] ?? 3));
const TOKEN = 'edge-bench-enroll-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-bench-'));
const wav = speechFixture('quick').path;

interface Sample {
  listenMs: number;
  firstAnswerMs: number;
  answeredBy: string;
}

async function measure(serverUrl: string, dataDir: string, token?: string): Promise<Sample> {
  const t0 = performance.now();
  const agent: Proc = await spawnAgent({ serverUrl, dataDir, ...(token ? { token } : {}) });
  const listenMs = performance.now() - t0;
  const result = await postWavStream(agent.url, wav);
  const firstAnswerMs = performance.now() - t0;
  await agent.stop();
  return { listenMs, firstAnswerMs, answeredBy: result.answeredBy };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  let server: Proc | undefined = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  const port = Number(new URL(server.url).port);
  const results: Record<string, Sample[]> = { 'first start': [], cached: [], offline: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      const dir = join(tmp, `edge-${r}`);
      if (!server) server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN, port });
      results['first start']!.push(await measure(server.url, dir, TOKEN));
      results['cached']!.push(await measure(server.url, dir));
      await server.stop();
      server = undefined;
      results['offline']!.push(await measure(`http://127.0.0.1:${port}`, dir));
    }
  } finally {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`edge agent cold start, ${rounds} round(s), median (ms): spawn -> listening | spawn -> first VAD answer`);
  const base = median(results['offline']!.map((s) => s.firstAnswerMs));
  for (const [name, samples] of Object.entries(results)) {
    const listen = median(samples.map((s) => s.listenMs));
    const answer = median(samples.map((s) => s.firstAnswerMs));
    const by = [...new Set(samples.map((s) => s.answeredBy))].join(',');
    console.log(`${name.padEnd(12)} ${listen.toFixed(0).padStart(6)} | ${answer.toFixed(0).padStart(6)}  (x${(answer / base).toFixed(2)} of offline; answered by ${by})`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
