/**
 * `npm run bench -- fleet [agents=10] [rounds=5]`: the edge fleet on loopback with real processes (one server,
 * `agents` edge agents, each started exactly as `npm start` starts them):
 *   cold start - ms from spawning an agent to its first answer computed on the device (answeredBy 'edge'):
 *                the first start (enroll + download + verify + load) once, then `rounds` starts from its cache
 *   RSS        - the agent's resident memory (MB, /proc VmRSS) sampled while it serves 8 concurrent infer
 *                callers, next to a bare onnxruntime-node process running the same Silero session (the floor)
 *   deploy     - ms from deployments.create of a new version (target: all) to every agent having reported it
 *                installed, `rounds` new versions in a row; bounded below by the agents' poll interval
 * Writes tools/bench/results/fleet.{json,md}. Prints numbers; asserts nothing and never fails on timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { bundledModelPath } from '@lepton/node-platform';

const N = Math.max(1, Number(process.argv[2] ?? 10));
const ROUNDS = Math.max(1, Number(process.argv[3] ?? 5));
const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = 'silero-vad-v5';
const TOKEN = 'fleet-bench-enroll-token';
const ADMIN_KEY = 'fleet-bench-admin-key';
const POLL_MS = 500;
/** Other work on the machine while this runs (1-minute load average; above the core count, tasks queue). */
const LOAD_BEFORE = loadavg()[0]!;
const tmp = mkdtempSync(join(tmpdir(), 'lepton-fleet-bench-'));

const frame = Buffer.from(new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.2).buffer).toString('base64');
const inputs = [
  { name: 'input', dtype: 'float32' as const, shape: [1, 576], data: frame },
  { name: 'state', dtype: 'float32' as const, shape: [2, 1, 128], data: Buffer.alloc(1024).toString('base64') },
];

interface Proc {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Spawn `entry` under tsx and resolve with the URL from its "<banner> http://..." line. */
function spawnListening(entry: string, banner: string, env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
  const re = new RegExp(`${banner} (http://\\S+)`);
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        done();
      });
      child.kill('SIGTERM');
    });
  return new Promise((ok, fail) => {
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      const m = re.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      child.off('exit', onExit);
      ok({ child, url: m[1]!, stop });
    };
    const onExit = (code: number | null) => fail(new Error(`${entry} exited (${code}) before listening:\n${err}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

const client = (url: string, key?: string) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: () => (key ? { authorization: `Bearer ${key}` } : {}) })] });

function spawnAgent(serverUrl: string, dataDir: string, token = ''): Promise<Proc> {
  return spawnListening('apps/edge-agent/src/main.ts', 'Lepton edge agent listening on', {
    EDGE_PORT: '0',
    EDGE_HOST: '127.0.0.1',
    LEPTON_SERVER_URL: serverUrl,
    EDGE_DATA_DIR: dataDir,
    LEPTON_ENROLL_TOKEN: token,
    EDGE_POLL_MS: String(POLL_MS),
    EDGE_BACKOFF_MAX_MS: '2000',
  });
}

/** ms from spawn to the first infer answered on the device. */
async function coldStart(serverUrl: string, dataDir: string, token?: string): Promise<{ ms: number; listenMs: number; agent: Proc }> {
  const t0 = performance.now();
  const agent = await spawnAgent(serverUrl, dataDir, token);
  const listenMs = performance.now() - t0;
  const r = await client(agent.url).infer.mutate({ model: MODEL, inputs });
  if (r.answeredBy !== 'edge') throw new Error(`first answer came from ${r.answeredBy}; expected edge`);
  return { ms: performance.now() - t0, listenMs, agent };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Sample `pid`'s RSS every 20 ms while `work` runs. */
async function rssWhile(pid: number, work: () => Promise<void>): Promise<{ median: number; peak: number }> {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssMb(pid)), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  samples.push(rssMb(pid));
  return { median: median(samples), peak: Math.max(...samples) };
}

/** The floor: a bare Node process with onnxruntime-node running the same Silero session, no agent around it. */
async function bareOrtRss(calls: number): Promise<{ median: number; peak: number }> {
  const script = `
    import * as ort from 'onnxruntime-node';
    const s = await ort.InferenceSession.create(${JSON.stringify(bundledModelPath(MODEL))});
    const frame = new Float32Array(576).map((_, i) => Math.sin(i / 9) * 0.2);
    process.stdout.write('ready\\n');
    await new Promise((r) => process.stdin.once('data', r));
    for (let i = 0; i < ${calls}; i++) {
      await s.run({ input: new ort.Tensor('float32', frame, [1, 576]), state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]), sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []) });
    }
    process.stdout.write('done\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const line = (want: string) => new Promise<void>((ok) => child.stdout!.on('data', (c: Buffer) => c.toString().includes(want) && ok()));
  await line('ready');
  const r = await rssWhile(child.pid!, async () => {
    const done = line('done');
    child.stdin!.write('go\n');
    await done;
  });
  child.kill('SIGTERM');
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Register silero's manifest as `version` with a rebuilt artifact (an unknown protobuf field appended: new digest, same model). */
async function registerVersion(serverUrl: string, version: string): Promise<void> {
  const admin = client(serverUrl, ADMIN_KEY);
  const label = Buffer.from(`fleet bench ${version}`);
  const bytes = Buffer.concat([readFileSync(bundledModelPath(MODEL)), Buffer.from([0xc2, 0x3e, label.length]), label]);
  const manifest = { ...(await admin.models.get.query({ id: MODEL, version: '5.0.0' })).manifest, version };
  await admin.deployments.registerModel.mutate({ manifest, variants: [{ precision: 'fp32', data: bytes.toString('base64') }] });
}

async function deploy(serverUrl: string, agents: Proc[], version: string): Promise<number> {
  await registerVersion(serverUrl, version);
  const admin = client(serverUrl, ADMIN_KEY);
  const t0 = performance.now();
  const dep = await admin.deployments.create.mutate({ model: MODEL, version, target: { all: true } });
  for (;;) {
    const s = await admin.deployments.status.query({ id: dep.id });
    if ((s.counts['installed'] ?? 0) + (s.counts['healthy'] ?? 0) >= agents.length) break;
    if (performance.now() - t0 > 300_000) throw new Error(`deploy of ${version} not installed on ${agents.length} agents after 300 s: ${JSON.stringify(s.counts)}`);
    await sleep(25);
  }
  const ms = performance.now() - t0;
  const versions = await Promise.all(agents.map(async (a) => (await client(a.url).models.get.query({ id: MODEL })).version));
  const wrong = versions.filter((v) => v !== version);
  if (wrong.length > 0) throw new Error(`after deploying ${version}, agents report ${wrong.join(', ')}`);
  return ms;
}

const server = await spawnListening('apps/server/src/main.ts', 'Lepton server listening on', {
  PORT: '0',
  HOST: '127.0.0.1',
  LEPTON_DATA_DIR: join(tmp, 'server'),
  LEPTON_ENROLL_TOKEN: TOKEN,
  LEPTON_ADMIN_KEY: ADMIN_KEY,
  LEPTON_LOG_LEVEL: 'warn',
  LEPTON_BUILD_VARIANTS: '0',
  LEPTON_DEVICE_POLL_MS: String(POLL_MS),
});
const agents: Proc[] = [];
try {
  const first = await coldStart(server.url, join(tmp, 'edge-0'), TOKEN);
  await first.agent.stop();
  const cached: { ms: number; listenMs: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const c = await coldStart(server.url, join(tmp, 'edge-0'));
    cached.push(c);
    if (i < ROUNDS - 1) await c.agent.stop();
    else agents.push(c.agent);
  }
  const serving = agents[0]!;
  const calls = 400;
  let left = calls;
  const agentRss = await rssWhile(serving.child.pid!, async () => {
    const c = client(serving.url);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (left-- > 0) await c.infer.mutate({ model: MODEL, inputs });
      }),
    );
  });
  const ortRss = await bareOrtRss(calls);

  const t0 = performance.now();
  agents.push(...(await Promise.all(Array.from({ length: N - 1 }, (_, i) => spawnAgent(server.url, join(tmp, `edge-${i + 1}`), TOKEN)))));
  const fleetUpMs = performance.now() - t0;
  const deploys: number[] = [];
  for (let r = 0; r < ROUNDS; r++) deploys.push(await deploy(server.url, agents, `5.${r + 1}.0`));

  const result = {
    bench: 'fleet',
    machine: `${cpus().length} cores, load average (1 min) ${LOAD_BEFORE.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after, Node ${process.version}`,
    agents: N,
    rounds: ROUNDS,
    pollMs: POLL_MS,
    coldStart: {
      firstStartMs: Math.round(first.ms),
      firstStartListenMs: Math.round(first.listenMs),
      cachedMs: cached.map((c) => Math.round(c.ms)),
      cachedMedianMs: Math.round(median(cached.map((c) => c.ms))),
      cachedListenMedianMs: Math.round(median(cached.map((c) => c.listenMs))),
    },
    rssMb: {
      agentMedian: +agentRss.median.toFixed(1),
      agentPeak: +agentRss.peak.toFixed(1),
      bareOrtMedian: +ortRss.median.toFixed(1),
      bareOrtPeak: +ortRss.peak.toFixed(1),
      ratio: +(agentRss.median / ortRss.median).toFixed(2),
      servingCalls: calls,
      concurrency: 8,
    },
    deploy: { fleetUpMs: Math.round(fleetUpMs), ms: deploys.map(Math.round), medianMs: Math.round(median(deploys)) },
  };
  const md = [
    `fleet bench: ${result.machine}; ${N} agents + 1 server on loopback, real processes; agents poll every ${POLL_MS} ms +-20%`,
    '',
    '| measurement | value |',
    '|---|---|',
    `| cold start to first local answer, first start (enroll + download + verify + load) | ${result.coldStart.firstStartMs} ms |`,
    `| cold start to first local answer, from cache (median of ${ROUNDS}: ${result.coldStart.cachedMs.join(', ')}) | ${result.coldStart.cachedMedianMs} ms |`,
    `| ... of which spawn to listening (median) | ${result.coldStart.cachedListenMedianMs} ms |`,
    `| agent RSS while serving ${calls} infer calls, 8 concurrent (median / peak) | ${result.rssMb.agentMedian} / ${result.rssMb.agentPeak} MB |`,
    `| bare onnxruntime-node process, same session and calls (median / peak) | ${result.rssMb.bareOrtMedian} / ${result.rssMb.bareOrtPeak} MB |`,
    `| agent / bare RSS | ${result.rssMb.ratio}x |`,
    `| ${N - 1} more agents enrolled and serving (started together) | ${result.deploy.fleetUpMs} ms |`,
    `| deploy a new version to ${N} agents, until all reported installed (median of ${ROUNDS}: ${result.deploy.ms.join(', ')}) | ${result.deploy.medianMs} ms |`,
    '',
  ].join('\n');
  console.log(md);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fleet.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'fleet.md'), md);
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
