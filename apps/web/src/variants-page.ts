import type { Variant, VariantJob } from '@lepton/contracts';
import { installKeyPanel, keyFormHtml, plural } from './key-panel';
import { renderJobs } from './variants-view';

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
    ${keyFormHtml('variants', 'API key (admin or client)', 'Show builds')}
    <table id="variant-jobs"><thead><tr><th>model</th><th>target</th><th>pass</th><th>status</th><th>variant</th>
      <th>report vs fp32</th></tr></thead><tbody></tbody></table>`;
  after.after(section);
  installKeyPanel({
    section,
    prefix: 'variants',
    baseUrl,
    stores: ['lepton.apiKey', 'lepton.adminKey'],
    load: async (client) => {
      const models = await client.models.list.query();
      const latest = models.filter((m, i) => models.findIndex((x) => x.id === m.id) === i);
      const jobs: VariantJob[] = (await Promise.all(latest.map((m) => client.variants.jobs.query({ model: m.id, version: m.version })))).flat();
      const variants = new Map<string, Variant>();
      for (const m of latest) for (const v of m.variants) variants.set(`${m.id}@${m.version}/${v.id}`, v);
      renderJobs(section.querySelector<HTMLTableSectionElement>('#variant-jobs tbody')!, jobs, variants);
      const active = jobs.filter((j) => j.status === 'queued' || j.status === 'running').length;
      return {
        status: `${plural(jobs.length, 'job')}${active ? `, ${active} in progress` : ''}; updated ${new Date().toLocaleTimeString()}`,
        ...(active ? { againMs: 3000 } : {}),
      };
    },
  });
}
