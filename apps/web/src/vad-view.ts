import type { ModelRecord, SpeechSegment, VadOptions, VadWarning } from '@lepton/contracts';
import { detectOnServer } from './api-client';
import { detectInBrowser } from './browser-vad';
import { compareProbabilities, msPerChunk } from './compare';
import { describeError, formatError, type ShownError } from './errors';
import { drawProbabilityPlot } from './plot';

/** One platform's answer as the page shows it and as tests read it from #result-json. */
export interface PlatformResult {
  /** The model version that answered (the server's own word for its run). */
  version: string;
  segments: SpeechSegment[];
  probabilities: number[];
  chunks: number;
  durationSec: number;
  /** Inference time reported by the platform (model runs only). */
  ms: number;
  msPerChunk: number | null;
  /** Browser: detectSpeech wall time in the page. Server: the round trip seen from the page. */
  totalMs: number;
  /** What the platform said about the input (a cut file), shown above its segments; absent when nothing. */
  warnings?: VadWarning[];
}

export interface RunResult {
  model: { id: string; version: string };
  input: { name: string; bytes: number };
  browser: PlatformResult | null;
  server: PlatformResult | null;
  maxAbsDiff: number | null;
  maxAbsDiffAt: number;
  sameChunkCount: boolean;
  errors: ShownError[];
}

export const COLORS = { browser: '#1f6fd1', server: '#d9480f' } as const;

/**
 * Run one WAV through the model in the page (onnxruntime-web) and on the server (POST /api/v1/vad/detect, the
 * same version), one after the other so neither run competes with the other for the CPU, and collect what each platform said.
 */
export async function runComparison(
  model: ModelRecord,
  wav: Uint8Array,
  name: string,
  options: VadOptions = {},
): Promise<RunResult> {
  const errors: ShownError[] = [];
  let browser: PlatformResult | null = null;
  let server: PlatformResult | null = null;
  try {
    const run = await detectInBrowser(model, wav, options);
    browser = {
      version: model.version,
      segments: run.segments,
      probabilities: Array.from(run.probabilities),
      chunks: run.chunks,
      durationSec: run.durationSec,
      ms: run.inferenceMs,
      msPerChunk: msPerChunk(run.inferenceMs, run.chunks),
      totalMs: run.totalMs,
      ...(run.warnings ? { warnings: run.warnings } : {}),
    };
  } catch (err) {
    errors.push(describeError(err, 'browser'));
  }
  try {
    const t0 = performance.now();
    const res = await detectOnServer(model, wav as Uint8Array<ArrayBuffer>, options);
    const roundTrip = performance.now() - t0;
    server = {
      version: res.version,
      segments: res.segments,
      probabilities: res.probabilities ?? [],
      chunks: res.chunks,
      durationSec: res.durationSec,
      ms: res.timings.inferenceMs,
      msPerChunk: msPerChunk(res.timings.inferenceMs, res.chunks),
      totalMs: roundTrip,
      ...(res.warnings ? { warnings: res.warnings } : {}),
    };
  } catch (err) {
    errors.push(describeError(err, 'server'));
  }
  const cmp =
    browser && server
      ? compareProbabilities(browser.probabilities, server.probabilities)
      : { maxAbsDiff: null, maxAbsDiffAt: -1, sameChunkCount: false };
  return { model: { id: model.id, version: model.version }, input: { name, bytes: wav.length }, browser, server, ...cmp, errors };
}

/** Fill the two platform panels, the plot, the difference line and the machine-readable JSON. */
export function renderRunResult(root: HTMLElement, result: RunResult): void {
  root.querySelector<HTMLElement>('#results')!.hidden = false;
  renderPanel(root.querySelector<HTMLElement>('#browser-panel')!, 'Browser (onnxruntime-web, WASM)', result.browser);
  renderPanel(root.querySelector<HTMLElement>('#server-panel')!, 'Server (onnxruntime-node)', result.server);
  const diff = root.querySelector<HTMLElement>('#diff')!;
  if (result.browser && result.server) {
    diff.textContent = result.sameChunkCount
      ? `Largest |browser − server| probability difference: ${formatNumber(result.maxAbsDiff)} (chunk ${result.maxAbsDiffAt} of ${result.browser.chunks})`
      : `Chunk counts differ: browser ${result.browser.chunks}, server ${result.server.chunks}`;
  } else {
    const missing = [!result.browser && 'the browser', !result.server && 'the server'].filter(Boolean);
    diff.textContent = `No comparison: ${missing.length === 2 ? 'neither platform' : missing[0]} gave a result.`;
  }
  const canvas = root.querySelector<HTMLCanvasElement>('#plot')!;
  const series = [
    result.browser && { label: 'browser', color: COLORS.browser, ...result.browser },
    result.server && { label: 'server', color: COLORS.server, dashed: true, ...result.server },
  ].filter((s): s is NonNullable<typeof s> => s !== null);
  // An empty axis box says nothing; keep the plot out of sight until some platform answered.
  canvas.hidden = series.length === 0;
  root.querySelector<HTMLElement>('.caption')!.hidden = series.length === 0;
  if (series.length > 0) drawProbabilityPlot(canvas, series, Math.max(...series.map((s) => s.durationSec)));
  root.querySelector<HTMLElement>('#result-json')!.textContent = JSON.stringify(result, null, 2);
  const error = root.querySelector<HTMLElement>('#error')!;
  error.hidden = result.errors.length === 0;
  error.textContent = result.errors.map(formatError).join('\n');
}

function renderPanel(panel: HTMLElement, title: string, r: PlatformResult | null): void {
  panel.replaceChildren();
  const h = document.createElement('h3');
  h.textContent = title;
  panel.append(h);
  if (!r) {
    panel.append(paragraph('No result (see the error above).'));
    return;
  }
  panel.append(
    paragraph(
      `${r.chunks} chunks, ${r.durationSec.toFixed(2)} s · inference ${r.ms.toFixed(1)} ms ` +
        `(${r.msPerChunk === null ? '–' : r.msPerChunk.toFixed(3)} ms/chunk) · total ${r.totalMs.toFixed(1)} ms`,
      'latency',
    ),
  );
  // Next to the segments: a cut file's segments cover only what it held.
  for (const w of r.warnings ?? []) panel.append(paragraph(`Warning ${w.code}: ${w.message}`, 'warning'));
  if (r.segments.length === 0) {
    panel.append(paragraph('No speech detected.', 'segments-empty'));
    return;
  }
  const table = document.createElement('table');
  table.className = 'segments';
  table.innerHTML = '<thead><tr><th>#</th><th>start (s)</th><th>end (s)</th><th>probability</th></tr></thead>';
  const body = document.createElement('tbody');
  r.segments.forEach((s, i) => {
    const row = body.insertRow();
    for (const text of [String(i + 1), s.start.toFixed(3), s.end.toFixed(3), s.probability.toFixed(3)]) {
      row.insertCell().textContent = text;
    }
  });
  table.append(body);
  panel.append(table);
}

function paragraph(text: string, className?: string): HTMLParagraphElement {
  const p = document.createElement('p');
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

function formatNumber(x: number | null): string {
  if (x === null) return '–';
  return x === 0 ? '0 (identical)' : x.toExponential(2);
}
