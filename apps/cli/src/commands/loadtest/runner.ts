import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LeptonError } from '@lepton/tensor-core';
import { KserveModelMetadataSchema } from '@lepton/contracts';
import { prepareRequest, syntheticInputs, type LoadProtocol, type PreparedRequest } from './payload';
import { summarize, type StepResult } from './stats';

export interface LoadTestOptions {
  url: string;
  model: string;
  protocol: LoadProtocol;
  /** Closed loop: this many requests in flight at every moment, one step per level. */
  concurrency?: number[];
  /** Open loop: start this many requests per second, whatever the answers (one step per rate). */
  rate?: number[];
  /** Seconds per step. */
  durationSec: number;
  /** Hard cap on requests per step (the loop is bounded in count as well as in time). */
  maxRequests?: number;
  /** Rows per request for a variable batch dim (default 1). */
  batch?: number;
  /** Called after each step (progress). */
  onStep?(r: StepResult): void;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/;

/** The load generator only targets this machine: it is a measuring tool, not a way to flood someone else's host. */
export function checkLoopback(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LeptonError('BAD_REQUEST', `--url ${JSON.stringify(url)} is not a URL; expected http://127.0.0.1:PORT`);
  }
  if (u.protocol !== 'http:' || !LOOPBACK.test(u.hostname)) {
    throw new LeptonError('BAD_REQUEST', `--url ${url} is not a loopback http:// address; loadtest only targets localhost, 127.0.0.0/8 or [::1]`);
  }
  return u;
}

/** One request on a keep-alive agent: resolves with the status (0 for a transport failure) after the body is read. */
function send(base: URL, agent: Agent, req: PreparedRequest): Promise<number> {
  return new Promise((resolve) => {
    const r = request(
      { host: base.hostname.replace(/^\[|\]$/g, ''), port: base.port, path: req.path, method: 'POST', agent, headers: { ...req.headers, 'content-length': String(req.body.length) } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    r.on('error', () => resolve(0));
    r.end(req.body);
  });
}

async function fetchMetadata(base: URL, model: string) {
  const res = await fetch(new URL(`/v2/models/${encodeURIComponent(model)}`, base)).catch((e: unknown) => {
    throw new LeptonError('UPSTREAM_UNAVAILABLE', `cannot reach ${base.origin}: ${(e as Error).message}`);
  });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new LeptonError(res.status === 404 ? 'MODEL_NOT_FOUND' : 'UPSTREAM_UNAVAILABLE', `model ${model}: ${body.error ?? `HTTP ${res.status}`}`);
  return KserveModelMetadataSchema.parse(body);
}

interface Tally {
  latencies: number[];
  errors: number;
  statuses: Record<string, number>;
}

function record(t: Tally, status: number, ms: number): void {
  if (status >= 200 && status < 300) t.latencies.push(ms);
  else {
    t.errors++;
    const k = status === 0 ? 'network' : String(status);
    t.statuses[k] = (t.statuses[k] ?? 0) + 1;
  }
}

async function closedLoop(base: URL, req: PreparedRequest, level: number, durationMs: number, max: number): Promise<Tally & { elapsed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: level });
  const t: Tally = { latencies: [], errors: 0, statuses: {} };
  let issued = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end && issued < max) {
      issued++;
      const t0 = performance.now();
      record(t, await send(base, agent, req), performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: level }, worker));
  const elapsed = performance.now() - start;
  agent.destroy();
  return { ...t, elapsed };
}

async function openLoop(base: URL, req: PreparedRequest, rate: number, durationMs: number, max: number): Promise<Tally & { elapsed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const t: Tally = { latencies: [], errors: 0, statuses: {} };
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.min(max, Math.floor((rate * durationMs) / 1000));
  let i = 0;
  while (i < total) {
    // Issue every request that is due, then yield for a millisecond so answers are read while we keep the pace.
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const scheduled = start + (i * 1000) / rate;
      // Latency counts from the scheduled start, so a client falling behind shows up as latency (no coordinated omission).
      const p = send(base, agent, req).then((status) => record(t, status, performance.now() - scheduled));
      inflight.add(p);
      void p.then(() => inflight.delete(p));
    }
    if (i < total) await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - start;
  agent.destroy();
  return { ...t, elapsed };
}

/**
 * Run one step per concurrency level (or rate) against a loopback server and summarize each: throughput and
 * p50/p90/p95/p99 latency. A warm-up request checks the payload first, so a 4xx fails fast with the server's error.
 */
export async function runLoadTest(opts: LoadTestOptions): Promise<StepResult[]> {
  const base = checkLoopback(opts.url);
  const meta = await fetchMetadata(base, opts.model);
  const req = prepareRequest(opts.protocol, opts.model, syntheticInputs(meta, opts.batch ?? 1));
  const probe = await fetch(new URL(req.path, base), { method: 'POST', headers: req.headers, body: req.body as Uint8Array<ArrayBuffer> });
  if (!probe.ok) throw new LeptonError('BAD_REQUEST', `warm-up request failed with HTTP ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
  await probe.arrayBuffer();
  const max = opts.maxRequests ?? 1_000_000;
  const durationMs = opts.durationSec * 1000;
  const results: StepResult[] = [];
  const steps = opts.rate ? opts.rate.map((l) => ['rate', l] as const) : (opts.concurrency ?? [1]).map((l) => ['concurrency', l] as const);
  for (const [mode, level] of steps) {
    const t = mode === 'rate' ? await openLoop(base, req, level, durationMs, max) : await closedLoop(base, req, level, durationMs, max);
    const r = summarize({ protocol: opts.protocol, mode, level }, t.latencies, t.errors, t.statuses, t.elapsed);
    opts.onStep?.(r);
    results.push(r);
  }
  return results;
}
