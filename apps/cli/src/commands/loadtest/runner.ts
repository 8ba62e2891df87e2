import { performance } from 'node:perf_hooks';
import { LeptonError } from '@lepton/tensor-core';
import { KserveModelMetadataSchema } from '@lepton/contracts';
import { prepareRequest, syntheticInputs, type LoadProtocol, type PreparedRequest } from './payload';
import { RawConnection, serializeRequest } from './raw-http';
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

/** The target and the request, serialized once: every send writes the same bytes. */
interface Target {
  host: string;
  port: number;
  bytes: Buffer;
}

function targetOf(base: URL, req: PreparedRequest): Target {
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const port = base.port || '80';
  return { host, port: Number(port), bytes: serializeRequest(base.hostname, port, req) };
}

async function closedLoop(target: Target, level: number, durationMs: number, max: number): Promise<Tally & { elapsed: number }> {
  const t: Tally = { latencies: [], errors: 0, statuses: {} };
  let issued = 0;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    const conn = new RawConnection(target.host, target.port);
    while (performance.now() < end && issued < max) {
      issued++;
      const t0 = performance.now();
      record(t, await conn.send(target.bytes), performance.now() - t0);
    }
    conn.close();
  };
  await Promise.all(Array.from({ length: level }, worker));
  return { ...t, elapsed: performance.now() - start };
}

/** Most connections an open-loop step opens; beyond that, due requests wait client-side (and that wait counts). */
const OPEN_LOOP_MAX_CONNECTIONS = 256;

async function openLoop(target: Target, rate: number, durationMs: number, max: number): Promise<Tally & { elapsed: number }> {
  const t: Tally = { latencies: [], errors: 0, statuses: {} };
  const idle: RawConnection[] = [];
  const all: RawConnection[] = [];
  const backlog: number[] = [];
  let inflight = 0;
  let drained: (() => void) | undefined;
  const start = performance.now();
  const total = Math.min(max, Math.floor((rate * durationMs) / 1000));
  // Latency counts from the scheduled start, so a client or server falling behind shows up as latency (no
  // coordinated omission).
  const launch = (conn: RawConnection, scheduled: number) => {
    inflight++;
    void conn.send(target.bytes).then((status) => {
      record(t, status, performance.now() - scheduled);
      inflight--;
      const next = backlog.shift();
      if (next !== undefined) launch(conn, next);
      else idle.push(conn);
      if (inflight === 0 && drained) drained();
    });
  };
  let i = 0;
  while (i < total) {
    // Issue every request that is due, then yield for a millisecond so answers are read while we keep the pace.
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const scheduled = start + (i * 1000) / rate;
      let conn = idle.pop();
      if (!conn && all.length < OPEN_LOOP_MAX_CONNECTIONS) all.push((conn = new RawConnection(target.host, target.port)));
      if (conn) launch(conn, scheduled);
      else backlog.push(scheduled);
    }
    if (i < total) await new Promise((r) => setTimeout(r, 1));
  }
  if (inflight > 0) await new Promise<void>((r) => (drained = r));
  const elapsed = performance.now() - start;
  for (const c of all) c.close();
  return { ...t, elapsed };
}

export interface StepPlan {
  protocol: string;
  /** Closed loop (in-flight requests per step) or open loop (requests started per second per step). */
  concurrency?: number[];
  rate?: number[];
  durationSec: number;
  maxRequests?: number;
  onStep?(r: StepResult): void;
}

/** Run steps of one prepared request against a loopback URL (the bench also uses it for the HTTP floor). */
export async function runPreparedSteps(url: string, req: PreparedRequest, plan: StepPlan): Promise<StepResult[]> {
  const target = targetOf(checkLoopback(url), req);
  const max = plan.maxRequests ?? 1_000_000;
  const durationMs = plan.durationSec * 1000;
  const results: StepResult[] = [];
  const steps = plan.rate ? plan.rate.map((l) => ['rate', l] as const) : (plan.concurrency ?? [1]).map((l) => ['concurrency', l] as const);
  for (const [mode, level] of steps) {
    const t = mode === 'rate' ? await openLoop(target, level, durationMs, max) : await closedLoop(target, level, durationMs, max);
    const r = summarize({ protocol: plan.protocol, mode, level }, t.latencies, t.errors, t.statuses, t.elapsed);
    plan.onStep?.(r);
    results.push(r);
  }
  return results;
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
  return runPreparedSteps(opts.url, req, {
    protocol: opts.protocol,
    ...(opts.rate ? { rate: opts.rate } : { concurrency: opts.concurrency ?? [1] }),
    durationSec: opts.durationSec,
    ...(opts.maxRequests !== undefined ? { maxRequests: opts.maxRequests } : {}),
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });
}
