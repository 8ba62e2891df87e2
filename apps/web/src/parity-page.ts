import { LeptonError } from '@lepton/tensor-core';
import type { ModelRecord, Variant, WireTensor } from '@lepton/contracts';
import type { ParityReport, ParityRunInput } from '@lepton/api';
import { createLeptonClient, type LeptonClient } from './api-client';
import { describeError, formatError } from './errors';
import { runInBrowser, type BrowserRunRequest } from './parity-browser';
import { renderParityReport } from './parity-view';
import { variantText } from './variants-view';
import { browserEnv } from './env';

/** What the page exposes to scripts (the parity CLI and the conformance runner drive it through Playwright). */
export interface LeptonParityHook {
  /** Run a registered model in this page (onnxruntime-web) and return the parity run. */
  runInBrowser(req: BrowserRunRequest): Promise<ParityRunInput>;
  /** Run in this page, then ask the server to run the other platforms and compare: the full report. */
  compare(req: ParityPageRequest): Promise<ParityReport>;
}

export interface ParityPageRequest {
  model: string;
  version?: string;
  /**
   * The variant every platform runs, by id (wins), or by precision and/or target as `variants.choose` resolves
   * them (the page resolves it once, so the browser and the server run the same artifact). Absent: fp32.
   */
  variant?: string;
  precision?: Variant['precision'];
  target?: Variant['target'];
  /** Also run the fp32 model on the server and report each platform's difference from it (non-fp32 variants). */
  compareFp32?: boolean;
  inputs?: WireTensor[];
  wav?: string;
  /**
   * Platforms besides the browser (this page), run by the server (default ['server']). 'local' is not one: it is
   * the caller's own process, and this page is the browser (`lepton parity --platforms local` runs it).
   */
  platforms?: PagePlatform[];
  edgeUrl?: string;
  /** Also run this page on onnxruntime-web's WebGPU backend (platform 'browser-webgpu'; fails where no adapter). */
  webgpu?: boolean;
}

/** What this page can ask for besides itself: the server, and an edge agent at a URL the server calls. */
export type PagePlatform = 'server' | 'edge';

declare global {
  interface Window {
    leptonParity?: LeptonParityHook;
  }
}

async function compare(client: LeptonClient, req: ParityPageRequest): Promise<ParityReport> {
  const others = req.platforms ?? ['server'];
  const local = (others as string[]).find((p) => p !== 'server' && p !== 'edge');
  if (local !== undefined) {
    throw new LeptonError('NOT_IMPLEMENTED', `platform ${JSON.stringify(local)} cannot run from the parity page; expected server or edge (the page itself is the browser; 'local' is the CLI's own process)`);
  }
  const ref = { model: req.model, ...(req.version ? { version: req.version } : {}) };
  let variant = req.variant;
  if (variant === undefined && (req.precision !== undefined || req.target !== undefined)) {
    const chosen = await client.variants.choose.query({ ...ref, ...(req.precision ? { precision: req.precision } : {}), ...(req.target ? { target: req.target } : {}) });
    variant = chosen.variant.id;
  }
  const feeds = { ...(req.inputs ? { inputs: req.inputs } : {}), ...(req.wav ? { wav: req.wav } : {}) };
  const browser = await runInBrowser(client, { ...ref, ...(variant !== undefined ? { variant } : {}), ...feeds });
  const webgpu = req.webgpu ? [await runInBrowser(client, { ...ref, ...(variant !== undefined ? { variant } : {}), ...feeds, executionProvider: 'webgpu' })] : [];
  return client.parity.run.mutate({
    ...ref,
    ...(variant !== undefined ? { variant } : {}),
    compareFp32: req.compareFp32 ?? false,
    inputs: req.inputs ?? [],
    ...(req.wav ? { wav: req.wav } : {}),
    platforms: others,
    ...(req.edgeUrl ? { edgeUrl: req.edgeUrl } : {}),
    reference: 'server',
    provided: [browser, ...webgpu],
  });
}

/**
 * Install the hook and, on /#parity, the parity panel: model, variant (fp32 or a built one, from models.get),
 * compare-with-fp32, inputs (JSON wire tensors or a WAV), the platforms this page runs, run, report. Choosing a
 * file runs; "Run again" reruns it with the current choices. #parity[data-state] is ready | running | done | error;
 * data-run counts finished runs.
 */
export function installParityPage(root: HTMLElement, client: LeptonClient = createLeptonClient()): void {
  window.leptonParity = { runInBrowser: (req) => runInBrowser(client, req), compare: (req) => compare(client, req) };
  if (location.hash !== '#parity') return;
  const section = document.createElement('section');
  section.id = 'parity';
  section.dataset['state'] = 'ready';
  section.innerHTML = `<h2>Parity: the same model on every platform</h2>
    <label>Model <select id="parity-model"></select></label>
    <label>Variant <select id="parity-variant"></select></label>
    <label><input id="parity-fp32" type="checkbox" /> compare with fp32 (the server also runs the fp32 model on the same feeds)</label>
    <label>Inputs (JSON wire tensors, or a WAV for VAD models) <input id="parity-inputs" type="file" accept=".json,.wav" /></label>
    <label><input id="parity-webgpu" type="checkbox" /> also run this page on WebGPU (<span id="parity-webgpu-why"></span>)</label>
    <label><input id="parity-edge" type="checkbox" /> include the edge agent at <input id="parity-edge-url" value="http://127.0.0.1:8081" /></label>
    <ul id="parity-platforms"></ul>
    <button id="parity-run" type="button" disabled>Run again</button>
    <p id="parity-status" role="status"></p><div id="parity-report"></div><pre id="parity-json"></pre>`;
  root.append(section);
  const $ = <T extends HTMLElement>(sel: string) => section.querySelector<T>(sel)!;
  const select = $<HTMLSelectElement>('#parity-model');
  const variantSelect = $<HTMLSelectElement>('#parity-variant');
  const fp32 = $<HTMLInputElement>('#parity-fp32');
  const webgpu = $<HTMLInputElement>('#parity-webgpu');
  $<HTMLElement>('#parity-webgpu-why').textContent = browserEnv.webgpu
    ? 'navigator.gpu is present; a missing adapter is reported as WEBGPU_UNAVAILABLE'
    : 'this browser has no navigator.gpu';
  webgpu.disabled = !browserEnv.webgpu;
  const edge = $<HTMLInputElement>('#parity-edge');
  const edgeUrl = $<HTMLInputElement>('#parity-edge-url');
  const runButton = $<HTMLButtonElement>('#parity-run');
  const status = $<HTMLElement>('#parity-status');
  let file: File | undefined;
  let runs = 0;

  const showPlatforms = (): void => {
    const rows: [string, boolean, string][] = [
      ['browser', true, 'this page (onnxruntime-web, wasm, 1 thread)'],
      ['browser-webgpu', webgpu.checked, webgpu.checked ? "this page on onnxruntime-web's WebGPU backend" : 'tick "also run this page on WebGPU"'],
      ['server', true, 'the server this page came from (onnxruntime-node); the reference'],
      ['edge', edge.checked, edge.checked ? `the agent at ${edgeUrl.value}, called by the server` : 'tick "include the edge agent" and give its URL'],
      ['local', false, "not from a page: the page is the browser; 'local' is the CLI's own process (lepton parity --platforms local)"],
    ];
    $<HTMLUListElement>('#parity-platforms').replaceChildren(
      ...rows.map(([name, runs, why]) => {
        const li = document.createElement('li');
        li.dataset['platform'] = name;
        li.dataset['runs'] = runs ? 'yes' : 'no';
        li.textContent = `${name}: ${runs ? 'runs' : 'does not run'}, ${why}`;
        return li;
      }),
    );
  };
  edge.addEventListener('change', showPlatforms);
  webgpu.addEventListener('change', showPlatforms);
  edgeUrl.addEventListener('input', showPlatforms);
  showPlatforms();

  // The variants of the chosen model version; a later choice wins over a slower earlier answer.
  let loading = 0;
  const showVariants = async (): Promise<void> => {
    const mine = ++loading;
    const [id, version] = select.value.split('@') as [string, string];
    variantSelect.disabled = true;
    try {
      const record = await client.models.get.query({ id, version });
      if (mine !== loading) return;
      const fp32Default = record.variants.find((v) => v.precision === 'fp32' && (v.target === 'server' || v.target === 'any'));
      const fp32Label = `fp32 (default)${fp32Default ? `: ${variantText(fp32Default)}` : ''}`;
      const others = record.variants.filter((v) => v !== fp32Default).sort((a, b) => a.id.localeCompare(b.id));
      variantSelect.replaceChildren(new Option(fp32Label, ''), ...others.map((v) => new Option(variantText(v), v.id)));
      variantSelect.disabled = false;
      syncFp32();
    } catch (err) {
      if (mine === loading) status.textContent = formatError(describeError(err, 'server'));
    }
  };
  // compare-with-fp32 means nothing for the fp32 model itself (the server ignores it there).
  const syncFp32 = (): void => {
    fp32.disabled = variantSelect.value === '';
  };
  variantSelect.addEventListener('change', syncFp32);
  select.addEventListener('change', () => void showVariants());
  void client.models.list.query().then((models: ModelRecord[]) => {
    select.replaceChildren(...models.map((m) => new Option(`${m.id}@${m.version} (${m.task})`, `${m.id}@${m.version}`)));
    if (models.length) void showVariants();
  });

  const run = async (chosen: File): Promise<void> => {
    section.dataset['state'] = 'running';
    runButton.disabled = true;
    const variant = variantSelect.value;
    status.textContent = `Running ${select.value} (${variant || 'fp32'}) in the browser, then on the server…`;
    try {
      const [model, version] = select.value.split('@') as [string, string];
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      const isWav = chosen.name.toLowerCase().endsWith('.wav');
      const report = await compare(client, {
        model,
        version,
        ...(variant ? { variant, compareFp32: fp32.checked } : {}),
        ...(isWav ? { wav: toBase64(bytes) } : { inputs: parseInputs(chosen.name, new TextDecoder().decode(bytes)) }),
        platforms: edge.checked ? ['server', 'edge'] : ['server'],
        ...(edge.checked ? { edgeUrl: edgeUrl.value } : {}),
        webgpu: webgpu.checked,
      });
      renderParityReport($<HTMLElement>('#parity-report'), report);
      $<HTMLElement>('#parity-json').textContent = JSON.stringify(report, null, 1);
      status.textContent = report.pass ? 'All platforms agree within the stated tolerances.' : 'Platforms disagree: see the report.';
      section.dataset['state'] = 'done';
    } catch (err) {
      status.textContent = formatError(describeError(err, 'page'));
      section.dataset['state'] = 'error';
    } finally {
      runs += 1;
      section.dataset['run'] = String(runs);
      runButton.disabled = false;
    }
  };
  $<HTMLInputElement>('#parity-inputs').addEventListener('change', (ev) => {
    file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void run(file);
  });
  runButton.addEventListener('click', () => {
    if (file) void run(file);
  });
}

const INPUTS_EXPECTED = 'expected a JSON array of wire tensors [{ "name", "dtype", "shape", "data" }, ...] or { "inputs": [...] }';

/**
 * The wire tensors of an inputs file; VALIDATION_FAILED naming the file when it holds something else. It said
 * 'SyntaxError: Unexpected end of JSON input' for a file that is not JSON, 'TypeError: Cannot read properties of
 * null' for `null`, and 'needs inputs (wire tensors) or a wav' for `{"foo": 1}`, as if no file had been given.
 * The tensors themselves are checked by the run (field by field).
 */
export function parseInputs(name: string, text: string): WireTensor[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const why = text.trim() === '' ? 'is empty' : `is not JSON (${(err as Error).message})`;
    throw new LeptonError('VALIDATION_FAILED', `inputs file ${name} ${why}; ${INPUTS_EXPECTED}`);
  }
  const list = Array.isArray(parsed) ? parsed : isObject(parsed) && 'inputs' in parsed ? parsed['inputs'] : undefined;
  if (!Array.isArray(list)) {
    throw new LeptonError('VALIDATION_FAILED', `inputs file ${name} holds ${describeJson(parsed)}; ${INPUTS_EXPECTED}`);
  }
  const bad = list.findIndex((t) => !isObject(t));
  if (bad >= 0) throw new LeptonError('VALIDATION_FAILED', `inputs file ${name}: tensor ${bad} is ${describeJson(list[bad])}, not an object; ${INPUTS_EXPECTED}`);
  return list as WireTensor[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}${keys.length > 5 ? ', ...' : ''} and no "inputs"`;
  }
  return `the ${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
