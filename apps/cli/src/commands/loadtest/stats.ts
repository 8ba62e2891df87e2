/** Latency percentiles the way perf_analyzer reports them: nearest rank on the sorted sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface StepResult {
  protocol: string;
  /** "concurrency" (closed loop) or "rate" (open loop, requests per second). */
  mode: 'concurrency' | 'rate';
  level: number;
  durationSec: number;
  requests: number;
  ok: number;
  errors: number;
  /** Non-2xx answers by status (503 = back-pressure), and transport failures as "network". */
  statuses: Record<string, number>;
  /** Successful requests per second. */
  throughput: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(
  head: Pick<StepResult, 'protocol' | 'mode' | 'level'>,
  latencies: number[],
  errors: number,
  statuses: Record<string, number>,
  elapsedMs: number,
): StepResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    ...head,
    durationSec: elapsedMs / 1000,
    requests: sorted.length + errors,
    ok: sorted.length,
    errors,
    statuses,
    throughput: elapsedMs > 0 ? sorted.length / (elapsedMs / 1000) : 0,
    meanMs: sorted.length ? sum / sorted.length : NaN,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

const COLUMNS = ['protocol', 'mode', 'level', 'requests', 'errors', 'throughput', 'p50Ms', 'p90Ms', 'p95Ms', 'p99Ms'] as const;
const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v));

/** A markdown table (readable in a terminal and pastes into notes as is). */
export function toTable(rows: readonly StepResult[]): string {
  const head = ['protocol', 'mode', 'level', 'requests', 'errors', 'infer/s', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${COLUMNS.map((c) => fmt(r[c])).join(' | ')} |`);
  return lines.join('\n');
}

export function toCsv(rows: readonly StepResult[]): string {
  const cols = [...COLUMNS, 'meanMs', 'maxMs', 'durationSec'] as const;
  return [cols.join(','), ...rows.map((r) => cols.map((c) => fmt(r[c])).join(','))].join('\n');
}
