import type { ModelRecord } from '@lepton/contracts';
import { createLeptonClient } from './api-client';
import { browserEnv } from './env';
import { describeError, formatError } from './errors';
import { renderModels, selectedModel } from './models-view';
import { startRecording, type ActiveRecording } from './recorder';
import { renderRunResult, runComparison } from './vad-view';
import { encodeWav16 } from './wav-encoder';
import { installParityPage } from './parity-page';
import { installFleetPage } from './fleet-page';
import { installVariantsPage } from './variants-page';
import './styles.css';

/**
 * Page states, on #app[data-state] for people (styling) and tests (waiting): loading -> ready -> running ->
 * done | error, and back to running on the next input. data-run counts finished runs so a test can wait for the
 * one it started.
 */
type PageState = 'loading' | 'ready' | 'running' | 'done' | 'error';

const app = document.querySelector<HTMLElement>('#app')!;
const el = {
  models: app.querySelector<HTMLTableElement>('#model-list')!,
  select: app.querySelector<HTMLSelectElement>('#model-select')!,
  file: app.querySelector<HTMLInputElement>('#wav-file')!,
  record: app.querySelector<HTMLButtonElement>('#record')!,
  status: app.querySelector<HTMLElement>('#status')!,
  error: app.querySelector<HTMLElement>('#error')!,
};
const client = createLeptonClient();
let models: ModelRecord[] = [];
let runs = 0;
let recording: ActiveRecording | undefined;

function setState(state: PageState, status: string): void {
  app.dataset['state'] = state;
  el.status.textContent = status;
  const busy = state === 'running' || state === 'loading';
  el.file.disabled = busy;
  el.record.disabled = busy && !recording;
}

function showError(text: string): void {
  el.error.hidden = false;
  el.error.textContent = text;
}

async function analyse(wav: Uint8Array, name: string): Promise<void> {
  const model = selectedModel(el.select, models);
  if (!model) {
    showError('page: MODEL_NOT_FOUND: no VAD model is selected; expected one from the list above');
    return;
  }
  if (wav.byteLength === 0) {
    // One answer for the page's user: the browser's decoder said WAV_TRUNCATED ('ends after 0 bytes, inside the
    // RIFF header') and the server VALIDATION_FAILED ('wav: Too small: expected string to have >=1 characters').
    runs += 1;
    app.dataset['run'] = String(runs);
    showError(`page: WAV_EMPTY: ${name} is empty (0 bytes); expected a WAV file`);
    setState('error', 'Nothing to analyse.');
    return;
  }
  setState('running', `Running ${model.id} ${model.version} on ${name} in the browser, then on the server…`);
  el.error.hidden = true;
  try {
    const result = await runComparison(model, wav, name);
    renderRunResult(app, result);
    runs += 1;
    app.dataset['run'] = String(runs);
    setState(result.errors.length ? 'error' : 'done', result.errors.length ? 'Finished with errors.' : `Done: ${name}.`);
  } catch (err) {
    runs += 1;
    app.dataset['run'] = String(runs);
    showError(formatError(describeError(err, 'page')));
    setState('error', 'Failed.');
  }
}

el.file.addEventListener('change', () => {
  const file = el.file.files?.[0];
  if (!file) return;
  // Clear the input so choosing the same file again still fires `change`.
  el.file.value = '';
  void file.arrayBuffer().then((buf) => analyse(new Uint8Array(buf), file.name));
});

el.record.hidden = !browserEnv.microphone;
el.record.addEventListener('click', () => {
  void (async () => {
    try {
      if (!recording) {
        recording = await startRecording();
        el.record.textContent = 'Stop and analyse';
        setState('ready', 'Recording from the microphone…');
        return;
      }
      const active = recording;
      recording = undefined;
      el.record.textContent = 'Record from microphone';
      const { samples, sampleRate } = await active.stop();
      await analyse(encodeWav16(samples, sampleRate), `microphone-${sampleRate}Hz.wav`);
    } catch (err) {
      recording = undefined;
      el.record.textContent = 'Record from microphone';
      showError(formatError(describeError(err, 'page')));
      setState('error', 'Microphone failed.');
    }
  })();
});

async function start(): Promise<void> {
  setState('loading', 'Loading models…');
  try {
    models = await client.models.list.query();
    renderModels(el.models, el.select, models);
    setState('ready', models.some((m) => m.task === 'vad') ? 'Choose a WAV file.' : 'No VAD model is registered.');
  } catch (err) {
    showError(formatError(describeError(err, 'server')));
    setState('error', 'Could not load the model list.');
  }
}

installParityPage(app, client);
installFleetPage(app);
installVariantsPage(el.models.closest('section')!);
void start();
