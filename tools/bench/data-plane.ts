/**
 * `npm run bench -- data-plane [--seconds 2.5]`: the data plane side by side in one run, on mnist-8
 * (../shared/models/mnist-8.onnx; skipped with a note when absent) and the bundled Silero VAD v5:
 *   raw in-process session.run (one session, and a pool of two) -> tRPC JSON, KServe JSON, KServe binary over
 *   loopback HTTP, each with batching off and on, at concurrency 1, 8 and 64; the loopback HTTP floor (GET of a
 *   health route, no inference); p50/p99 in open loop at 50 % and 80 % of the peak that open loop reaches;
 *   and binary vs JSON encode+decode of a 1x3x224x224 float32 tensor.
 * The server runs as its own process (LEPTON_MODELS_DIR registers mnist twice: batching off and on); the load
 * comes from `lepton loadtest`'s runner in this process, so the two compete for the same cores. Each HTTP row
 * also reports CPU microseconds per request spent by the server process (all its threads, from /proc) and by
 * this process (the load generator): unlike throughput, these say where the time goes even when the machine is
 * shared. Prints a markdown table, writes tools/bench/results/data-plane.{json,md}. Timings are noise in
 * absolute terms; compare rows of one run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BinaryCursor, joinKserveBody, readKserveTensor, splitKserveBody, writeKserveTensor, type KserveTensor } from '@lepton/contracts';
import { bundledModelPath, mnistBatchable, ortNode, threadedOrt } from '@lepton/node-platform';
import { SILERO_VAD_V5_MANIFEST } from '@lepton/runtime';
import { runLoadTest, runPreparedSteps, type LoadProtocol, type StepResult } from '@lepton/cli';

const ROOT = resolve(import.meta.dirname, '../..');
const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const SECONDS = Number(opt('seconds', '2.5'));
const LEVELS = opt('concurrency', '1,8,64').split(',').map(Number);
const PROTOCOLS = opt('protocols', 'trpc,kserve-json,kserve-binary').split(',') as LoadProtocol[];
const DELAY_MS = Number(opt('delay', '0'));
const SILERO = opt('silero', '1') !== '0';
/** LEPTON_SESSION_THREADS for the bench server: worker threads (1), its main thread (0), or by model (auto). */
const SESSION_THREADS = opt('session-threads', process.env.LEPTON_SESSION_THREADS ?? 'auto');
const MNIST = [join(ROOT, '../shared/models/mnist-8.onnx'), '/work/shared/models/mnist-8.onnx'].find((p) => existsSync(p));

interface Row {
  model: string;
  path: string;
  batching: string;
  concurrency: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU microseconds per answered request: the server process (all threads) and this process (the generator). */
  serverCpuUs?: number;
  clientCpuUs?: number;
  note?: string;
}
const rows: Row[] = [];
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

interface BenchServer {
  url: string;
  /** CPU milliseconds the server process has used so far (user + system, every thread; Linux /proc). */
  cpuMs(): number;
  stop(): Promise<void>;
}

async function startServer(modelsDir: string): Promise<BenchServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LEPTON_DATA_DIR: mkdtempSync(join(tmpdir(), 'lepton-bench-')), LEPTON_MODELS_DIR: modelsDir, LEPTON_LOG_LEVEL: 'warn', LEPTON_SESSIONS_PER_MODEL: '2',
      LEPTON_SESSION_THREADS: SESSION_THREADS,
      // No background web/edge variant builds: they run on worker threads for tens of seconds after start
      // (measured: ~0.35 cores of an otherwise idle server) and would compete with every step.
      LEPTON_BUILD_VARIANTS: '0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`server exited (${code}) before listening`)));
  });
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return {
    url,
    cpuMs: () => {
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * tick;
    },
    stop: () => new Promise((done) => (child.once('exit', () => done()), child.kill('SIGTERM'))),
  };
}

/**
 * c callers looping on session.run for `seconds`, over `sessions` sessions (round robin): on the main thread
 * (what a plain onnxruntime-node program does), or each session on its own worker thread (the server's pool).
 */
async function rawThroughput(model: Uint8Array, feeds: () => Record<string, ortNode.Tensor>, sessions: number, c: number, threads = false): Promise<{ throughput: number; p50: number; p99: number }> {
  const opts = { graphOptimizationLevel: 'all' as const, intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const };
  const create = threads ? threadedOrt().InferenceSession.create : (m: Uint8Array, o: typeof opts) => ortNode.InferenceSession.create(m, o);
  const pool = await Promise.all(Array.from({ length: sessions }, () => create(model, opts)));
  const input = feeds();
  for (const s of pool) await s.run(input);
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < end) {
        const s = pool[next++ % sessions]!;
        const t = performance.now();
        await s.run(input);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(pool.map((s) => s.release()));
  lat.sort((a, b) => a - b);
  return { throughput: lat.length / elapsed, p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.ceil(lat.length * 0.99) - 1]! };
}

/** One step with the CPU both processes spent on it. */
async function measured(server: BenchServer, step: () => Promise<StepResult[]>): Promise<{ r: StepResult; serverCpuUs: number; clientCpuUs: number }> {
  const s0 = server.cpuMs();
  const c0 = process.cpuUsage();
  const [r] = await step();
  const c = process.cpuUsage(c0);
  const ok = Math.max(1, r!.ok);
  return { r: r!, serverCpuUs: ((server.cpuMs() - s0) * 1000) / ok, clientCpuUs: (c.user + c.system) / ok };
}

async function addSteps(server: BenchServer, model: string, id: string, protocol: LoadProtocol, batching: string): Promise<void> {
  for (const level of LEVELS) {
    const { r, serverCpuUs, clientCpuUs } = await measured(server, () => runLoadTest({ url: server.url, model: id, protocol, concurrency: [level], durationSec: SECONDS }));
    rows.push({ model, path: r.protocol, batching, concurrency: r.level, throughput: r.throughput, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, serverCpuUs, clientCpuUs });
  }
}

/** Binary (KServe extension) vs JSON number arrays: encode + decode of one 1x3x224x224 float32 tensor. */
function codecBench(): { binaryMs: number; jsonMs: number; leptonJsonMs: number } {
  const n = 3 * 224 * 224;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i) * 3);
  const t = { dtype: 'float32' as const, shape: [1, 3, 224, 224], data: x };
  const time = (f: () => void, reps: number) => {
    f();
    const xs: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      f();
      xs.push(performance.now() - t0);
    }
    return xs.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
  };
  const binaryMs = time(() => {
    const { entry, bytes } = writeKserveTensor('x', t, true);
    const { body, headerLength } = joinKserveBody({ inputs: [entry] }, [bytes!]);
    const frame = splitKserveBody(body, headerLength);
    readKserveTensor((frame.header as { inputs: KserveTensor[] }).inputs[0]!, new BinaryCursor(frame.binary));
  }, 30);
  // The usual JSON client: numbers via JSON.stringify of a plain array, parsed back into a Float32Array.
  const jsonMs = time(() => {
    const text = JSON.stringify({ inputs: [{ name: 'x', shape: t.shape, datatype: 'FP32', data: Array.from(x) }] });
    const back = JSON.parse(text) as { inputs: { data: number[] }[] };
    Float32Array.from(back.inputs[0]!.data);
  }, 10);
  // Our own KServe JSON path (shortest round-trip decimals, checked decode).
  const leptonJsonMs = time(() => {
    const { entry } = writeKserveTensor('x', t, false);
    const text = JSON.stringify({ inputs: [entry] });
    readKserveTensor((JSON.parse(text) as { inputs: KserveTensor[] }).inputs[0]!, new BinaryCursor(new Uint8Array()));
  }, 5);
  return { binaryMs, jsonMs, leptonJsonMs };
}

async function main(): Promise<void> {
  const started = performance.now();
  // Other work on the machine (the 1-minute load average; more than the core count means queued runnable tasks).
  const loadBefore = loadavg()[0]!;
  const modelsDir = mkdtempSync(join(tmpdir(), 'lepton-bench-models-'));
  let mnistModel: Uint8Array | undefined;
  if (MNIST) {
    // Both ids serve the same batchable graph; only the manifest's batching differs.
    for (const [id, batching] of [
      ['mnist-8', { maxBatchSize: 1, maxQueueSize: 1024 }],
      ['mnist-8-batched', { maxBatchSize: 64, maxQueueDelayMs: DELAY_MS, maxQueueSize: 1024 }],
    ] as const) {
      const m = mnistBatchable(MNIST, { id, batching });
      mnistModel = m.model;
      writeFileSync(join(modelsDir, `${id}.onnx`), m.model);
      writeFileSync(join(modelsDir, `${id}.manifest.json`), JSON.stringify(m.manifest));
    }
  } else {
    console.log('mnist-8: skipped (../shared/models/mnist-8.onnx not found); Silero VAD only');
  }
  const server = await startServer(modelsDir);
  let openPeak = NaN;
  // The server should be quiet before the first step: its own CPU use while nobody calls it.
  const idle0 = server.cpuMs();
  await new Promise((r) => setTimeout(r, 1000));
  const serverIdleMsPerSec = server.cpuMs() - idle0;
  try {
    if (mnistModel) {
      const input = () => ({ Input3: new ortNode.Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => (i % 255) / 255), [1, 1, 28, 28]) });
      for (const [sessions, threads, label] of [[1, false, 'raw session.run x1'], [2, true, 'raw session.run x2 threads']] as const) {
        for (const c of LEVELS) {
          const r = await rawThroughput(mnistModel, input, sessions, c, threads);
          rows.push({ model: 'mnist-8', path: label, batching: 'n/a', concurrency: c, throughput: r.throughput, p50Ms: r.p50, p99Ms: r.p99, errors: 0 });
        }
      }
      // What batching can gain inside onnxruntime alone: one caller feeding 64 rows per run (infer/s = rows/s).
      const rows64 = () => ({ Input3: new ortNode.Tensor('float32', Float32Array.from({ length: 64 * 784 }, (_, i) => (i % 255) / 255), [64, 1, 28, 28]) });
      const b64 = await rawThroughput(mnistModel, rows64, 1, 1);
      rows.push({ model: 'mnist-8', path: 'raw session.run x1, 64 rows per run', batching: 'n/a', concurrency: 1, throughput: b64.throughput * 64, p50Ms: b64.p50, p99Ms: b64.p99, errors: 0 });
      for (const protocol of PROTOCOLS) {
        for (const [id, batching] of [['mnist-8', 'off'], ['mnist-8-batched', 'on']] as const) {
          await addSteps(server, 'mnist-8', id, protocol, batching);
        }
      }
    }
    if (SILERO) {
      const silero = new Uint8Array(readFileSync(bundledModelPath('silero-vad-v5')));
      const sileroInput = () => ({
        input: new ortNode.Tensor('float32', new Float32Array(576).map((_, i) => Math.sin(i / 9) / 4), [1, 576]),
        state: new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]),
        sr: new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []),
      });
      for (const [sessions, threads, label] of [[1, false, 'raw session.run x1'], [2, true, 'raw session.run x2 threads']] as const) {
        for (const c of LEVELS) {
          const r = await rawThroughput(silero, sileroInput, sessions, c, threads);
          rows.push({ model: 'silero-vad-v5', path: label, batching: 'n/a', concurrency: c, throughput: r.throughput, p50Ms: r.p50, p99Ms: r.p99, errors: 0 });
        }
      }
      for (const protocol of PROTOCOLS) {
        await addSteps(server, 'silero-vad-v5', 'silero-vad-v5', protocol, `off (${SILERO_VAD_V5_MANIFEST.state.length ? 'stateful: never batches' : 'on'})`);
      }
    }
    // The floor of any HTTP path here: the same generator and server answering GET /v2/health/live (no body,
    // no inference). No inference route can beat it, so it bounds what "KServe / raw session.run" can reach.
    for (const level of LEVELS) {
      const health = { method: 'GET' as const, path: '/v2/health/live', headers: {}, body: new Uint8Array() };
      const { r, serverCpuUs, clientCpuUs } = await measured(server, () => runPreparedSteps(server.url, health, { protocol: 'http GET /v2/health/live', concurrency: [level], durationSec: SECONDS }));
      rows.push({ model: '-', path: 'HTTP floor: GET /v2/health/live', batching: 'n/a', concurrency: level, throughput: r.throughput, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, serverCpuUs, clientCpuUs });
    }
    // p99 against p50 in open loop (queueing shows as latency). The peak comes from the same open-loop method:
    // offer 1.5x the best closed-loop rate, so the server saturates, and take what it answered per second. Then
    // 50 % and 80 % of that peak. On a shared machine the sustainable rate moves during the run, so each step
    // prints its achieved rate: one that falls short of its target was saturated after all.
    const target = mnistModel ? 'mnist-8-batched' : 'silero-vad-v5';
    const closedPeak = Math.max(...rows.filter((r) => r.path === 'kserve-binary' && r.model === (mnistModel ? 'mnist-8' : 'silero-vad-v5') && r.batching !== 'off').map((r) => r.throughput));
    const openStep = async (rate: number, label: string) => {
      const { r: open, serverCpuUs, clientCpuUs } = await measured(server, () => runLoadTest({ url: server.url, model: target, protocol: 'kserve-binary', rate: [rate], durationSec: SECONDS * 2 }));
      const note = `open loop ${rate}/s (${label}), achieved ${fmt(open.throughput, 0)}/s; p99/p50 = ${fmt(open.p99Ms / open.p50Ms, 2)}`;
      rows.push({ model: target, path: 'kserve-binary open loop', batching: mnistModel ? 'on' : 'off', concurrency: NaN, throughput: open.throughput, p50Ms: open.p50Ms, p99Ms: open.p99Ms, errors: open.errors, serverCpuUs, clientCpuUs, note });
      return open;
    };
    const saturated = await openStep(Math.ceil(closedPeak * 1.5), '1.5x the closed-loop peak: the open-loop peak');
    openPeak = saturated.throughput;
    for (const share of [0.5, 0.8]) await openStep(Math.max(1, Math.floor(openPeak * share)), `${share * 100} % of the open-loop peak`);
  } finally {
    await server.stop();
  }
  const codec = codecBench();

  const lines = [
    `data-plane bench: ${availableParallelism()} cores, ${SECONDS} s per step, server with 2 sessions per model on ${SESSION_THREADS === '0' ? 'its main thread' : SESSION_THREADS === 'auto' ? 'its main thread for batched models and worker threads otherwise (LEPTON_SESSION_THREADS=auto)' : 'worker threads'}, ` +
      `load generator in this process (a separate process from the server, sharing the same cores); server CPU while idle before the run: ${fmt(serverIdleMsPerSec, 0)} ms/s`,
    '',
    '| model | path | batching | concurrency | infer/s | p50 ms | p99 ms | errors | server CPU us/req | generator CPU us/req |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.path} | ${r.batching} | ${Number.isNaN(r.concurrency) ? r.note : r.concurrency} | ${fmt(r.throughput, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${r.serverCpuUs === undefined ? '-' : fmt(r.serverCpuUs, 0)} | ${r.clientCpuUs === undefined ? '-' : fmt(r.clientCpuUs, 0)} |`,
    ),
    '',
    ...ratios(openPeak),
    '',
    `encode+decode of a 1x3x224x224 float32 tensor (median): binary ${fmt(codec.binaryMs, 2)} ms, JSON number arrays ${fmt(codec.jsonMs, 2)} ms ` +
      `(${fmt(codec.jsonMs / codec.binaryMs, 0)}x), Lepton lossless KServe JSON ${fmt(codec.leptonJsonMs, 2)} ms (${fmt(codec.leptonJsonMs / codec.binaryMs, 0)}x)`,
    `run took ${fmt((performance.now() - started) / 1000, 0)} s; machine load average (1 min) ${fmt(loadBefore, 1)} before, ${fmt(loadavg()[0]!, 1)} after, on ${availableParallelism()} cores`,
  ];
  console.log(lines.join('\n'));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'data-plane.md'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'data-plane.json'), `${JSON.stringify({ seconds: SECONDS, cores: availableParallelism(), serverIdleMsPerSec, openPeak, rows, codec }, null, 2)}\n`);
}

/** The targets as measured ratios (printed, never asserted). */
function ratios(openPeak: number): string[] {
  const at = (model: string, path: string, batching: string, c: number) =>
    rows.find((r) => r.model === model && r.path === path && r.batching.startsWith(batching) && r.concurrency === c)?.throughput ?? NaN;
  const top = Math.max(...LEVELS);
  const out: string[] = [];
  if (MNIST) {
    const raw1 = at('mnist-8', 'raw session.run x1', 'n/a', top);
    out.push(`mnist-8 @${top}: KServe binary batched / raw session.run (1 session) = ${fmt(at('mnist-8', 'kserve-binary', 'on', top) / raw1, 2)}x`);
    out.push(`mnist-8 @${top}: KServe binary batching on / off = ${fmt(at('mnist-8', 'kserve-binary', 'on', top) / at('mnist-8', 'kserve-binary', 'off', top), 2)}x`);
    out.push(`mnist-8 @${top}: raw 2 sessions on threads / 1 session = ${fmt(at('mnist-8', 'raw session.run x2 threads', 'n/a', top) / raw1, 2)}x`);
    out.push(`mnist-8: onnxruntime alone, 64 rows per run / 1 row per run (one caller each) = ${fmt(at('mnist-8', 'raw session.run x1, 64 rows per run', 'n/a', 1) / at('mnist-8', 'raw session.run x1', 'n/a', 1), 2)}x rows/s: the most batching can save in compute`);
    // An upper bound from CPU accounting alone: both processes' CPU per answered request against every core.
    const cpuBound = (batching: string) => {
      const r = rows.find((x) => x.model === 'mnist-8' && x.path === 'kserve-binary' && x.batching.startsWith(batching) && x.concurrency === top);
      return r?.serverCpuUs !== undefined && r.clientCpuUs !== undefined ? (availableParallelism() * 1e6) / (r.serverCpuUs + r.clientCpuUs) : NaN;
    };
    out.push(
      `mnist-8 @${top}: CPU bound for KServe binary batched (${availableParallelism()} cores / server + generator CPU per request) = ${fmt(cpuBound('on'), 0)}/s = ${fmt(cpuBound('on') / raw1, 2)}x raw; batching off ${fmt(cpuBound('off'), 0)}/s; server CPU per request off / on = ${fmt(
        (rows.find((x) => x.model === 'mnist-8' && x.path === 'kserve-binary' && x.batching === 'off' && x.concurrency === top)?.serverCpuUs ?? NaN) /
          (rows.find((x) => x.model === 'mnist-8' && x.path === 'kserve-binary' && x.batching === 'on' && x.concurrency === top)?.serverCpuUs ?? NaN),
        2,
      )}x`,
    );
  }
  const floor = at('-', 'HTTP floor: GET /v2/health/live', 'n/a', top);
  if (MNIST) out.push(`mnist-8 @${top}: KServe binary batched / HTTP floor (GET, no inference) = ${fmt(at('mnist-8', 'kserve-binary', 'on', top) / floor, 2)}x; HTTP floor / raw session.run = ${fmt(floor / at('mnist-8', 'raw session.run x1', 'n/a', top), 2)}x`);
  const open = rows.filter((r) => r.path === 'kserve-binary open loop');
  const at80 = open[open.length - 1];
  if (at80) out.push(`open loop: peak ${fmt(openPeak, 0)}/s; at 80 % of it p99/p50 = ${fmt(at80.p99Ms / at80.p50Ms, 2)} (achieved ${fmt(at80.throughput, 0)}/s)`);
  const sRaw = at('silero-vad-v5', 'raw session.run x1', 'n/a', top);
  out.push(`silero-vad-v5 @${top}: KServe binary / raw session.run = ${fmt(at('silero-vad-v5', 'kserve-binary', 'off', top) / sRaw, 2)}x`);
  out.push(`silero-vad-v5 @${top}: raw 2 sessions on threads / 1 session = ${fmt(at('silero-vad-v5', 'raw session.run x2 threads', 'n/a', top) / sRaw, 2)}x`);
  return out;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
