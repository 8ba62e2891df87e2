import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import type { Variant, VariantJob } from '@lepton/contracts';
import { describeError, formatError } from './errors';
import { renderJobs } from './variants-view';

const KEY_STORE = 'lepton.apiKey';

/**
 * The "Variant builds" section under the model list: every model's latest version with its web/edge build jobs
 * (status, progress, the variant built, the accuracy report against fp32). Reading jobs needs an admin or client
 * API key, typed in once per tab (sessionStorage; the fleet page's admin key is used when present). Refreshes
 * every 3 s while a job is queued or running. #variants[data-state] is idle | loading | ready | error.
 */
export function installVariantsPage(after: HTMLElement, baseUrl = ''): void {
  const doc = after.ownerDocument;
  const section = doc.createElement('section');
  section.id = 'variants';
  section.dataset['state'] = 'idle';
  section.innerHTML = `
    <h2>Variant builds</h2>
    <form id="variants-auth"><label>API key (admin or client) <input id="variants-key" type="password" autocomplete="off" /></label>
      <button type="submit">Show builds</button></form>
    <p id="variants-status" role="status"></p>
    <table id="variant-jobs"><thead><tr><th>model</th><th>target</th><th>pass</th><th>status</th><th>variant</th>
      <th>report vs fp32</th></tr></thead><tbody></tbody></table>`;
  after.after(section);
  const key = section.querySelector<HTMLInputElement>('#variants-key')!;
  const status = section.querySelector<HTMLElement>('#variants-status')!;
  key.value = sessionStorage.getItem(KEY_STORE) ?? sessionStorage.getItem('lepton.adminKey') ?? '';
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function refresh(): Promise<void> {
    clearTimeout(timer);
    const client = createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${baseUrl}/trpc`, headers: () => ({ authorization: `Bearer ${key.value.trim()}` }) })],
    });
    section.dataset['state'] = 'loading';
    try {
      const models = await client.models.list.query();
      const latest = models.filter((m, i) => models.findIndex((x) => x.id === m.id) === i);
      const jobs: VariantJob[] = (await Promise.all(latest.map((m) => client.variants.jobs.query({ model: m.id, version: m.version })))).flat();
      const variants = new Map<string, Variant>();
      for (const m of latest) for (const v of m.variants) variants.set(`${m.id}@${m.version}/${v.id}`, v);
      renderJobs(section.querySelector<HTMLTableSectionElement>('#variant-jobs tbody')!, jobs, variants);
      const active = jobs.filter((j) => j.status === 'queued' || j.status === 'running').length;
      status.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'}${active ? `, ${active} in progress` : ''}; updated ${new Date().toLocaleTimeString()}`;
      section.dataset['state'] = 'ready';
      if (active) timer = setTimeout(() => void refresh(), 3000);
    } catch (err) {
      status.textContent = formatError(describeError(err, 'server'));
      section.dataset['state'] = 'error';
    }
  }

  section.querySelector('form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, key.value.trim());
    void refresh();
  });
  if (key.value) section.querySelector('form')!.requestSubmit();
}
