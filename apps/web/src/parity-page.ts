import type { ModelRecord, WireTensor } from '@lepton/contracts';
import type { ParityReport, ParityRunInput } from '@lepton/api';
import { createLeptonClient, type LeptonClient } from './api-client';
import { describeError, formatError } from './errors';
import { runInBrowser, type BrowserRunRequest } from './parity-browser';
import { renderParityReport } from './parity-view';

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
  inputs?: WireTensor[];
  wav?: string;
  /** Platforms besides the browser, run by the server (default ['server']). */
  platforms?: ('server' | 'edge' | 'local')[];
  edgeUrl?: string;
}

declare global {
  interface Window {
    leptonParity?: LeptonParityHook;
  }
}

async function compare(client: LeptonClient, req: ParityPageRequest): Promise<ParityReport> {
  const browser = await runInBrowser(client, { model: req.model, ...(req.version ? { version: req.version } : {}), ...(req.inputs ? { inputs: req.inputs } : {}), ...(req.wav ? { wav: req.wav } : {}) });
  return client.parity.run.mutate({
    model: req.model,
    ...(req.version ? { version: req.version } : {}),
    inputs: req.inputs ?? [],
    ...(req.wav ? { wav: req.wav } : {}),
    platforms: req.platforms ?? ['server'],
    ...(req.edgeUrl ? { edgeUrl: req.edgeUrl } : {}),
    reference: 'server',
    provided: [browser],
  });
}

/** Install the hook and, on /#parity, the parity panel: model, inputs (JSON wire tensors or a WAV), run, report. */
export function installParityPage(root: HTMLElement, client: LeptonClient = createLeptonClient()): void {
  window.leptonParity = { runInBrowser: (req) => runInBrowser(client, req), compare: (req) => compare(client, req) };
  if (location.hash !== '#parity') return;
  const section = document.createElement('section');
  section.id = 'parity';
  section.dataset['state'] = 'ready';
  section.innerHTML = `<h2>Parity: the same model on every platform</h2>
    <label>Model <select id="parity-model"></select></label>
    <label>Inputs (JSON wire tensors, or a WAV for VAD models) <input id="parity-inputs" type="file" accept=".json,.wav" /></label>
    <label><input id="parity-edge" type="checkbox" /> include the edge agent at <input id="parity-edge-url" value="http://127.0.0.1:8081" /></label>
    <p id="parity-status" role="status"></p><div id="parity-report"></div><pre id="parity-json"></pre>`;
  root.append(section);
  const select = section.querySelector<HTMLSelectElement>('#parity-model')!;
  const status = section.querySelector<HTMLElement>('#parity-status')!;
  void client.models.list.query().then((models: ModelRecord[]) => {
    select.replaceChildren(...models.map((m) => new Option(`${m.id}@${m.version} (${m.task})`, `${m.id}@${m.version}`)));
  });
  section.querySelector<HTMLInputElement>('#parity-inputs')!.addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (!file) return;
    void (async () => {
      section.dataset['state'] = 'running';
      status.textContent = `Running ${select.value} in the browser, then on the server…`;
      try {
        const [model, version] = select.value.split('@') as [string, string];
        const bytes = new Uint8Array(await file.arrayBuffer());
        const isWav = file.name.toLowerCase().endsWith('.wav');
        const edge = section.querySelector<HTMLInputElement>('#parity-edge')!.checked;
        const report = await compare(client, {
          model,
          version,
          ...(isWav ? { wav: toBase64(bytes) } : { inputs: parseInputs(new TextDecoder().decode(bytes)) }),
          platforms: edge ? ['server', 'edge'] : ['server'],
          ...(edge ? { edgeUrl: section.querySelector<HTMLInputElement>('#parity-edge-url')!.value } : {}),
        });
        renderParityReport(section.querySelector<HTMLElement>('#parity-report')!, report);
        section.querySelector<HTMLElement>('#parity-json')!.textContent = JSON.stringify(report, null, 1);
        status.textContent = report.pass ? 'All platforms agree within the stated tolerances.' : 'Platforms disagree: see the report.';
        section.dataset['state'] = 'done';
      } catch (err) {
        status.textContent = formatError(describeError(err, 'page'));
        section.dataset['state'] = 'error';
      }
    })();
  });
}

function parseInputs(text: string): WireTensor[] {
  const parsed = JSON.parse(text) as WireTensor[] | { inputs: WireTensor[] };
  return Array.isArray(parsed) ? parsed : parsed.inputs;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
