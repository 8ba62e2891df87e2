import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@lepton/api';
import { describeError, formatError } from './errors';
import { renderDeployments, renderDevices } from './fleet-view';

const KEY_STORE = 'lepton.adminKey';

/**
 * The fleet page at /#fleet: devices (versions, health, last seen, a latency plot each) and deployments. It
 * needs an admin API key, typed in once per tab (kept in sessionStorage, never in the URL). Refreshes every
 * 5 s while open. #fleet[data-state] is loading | ready | error for people and tests.
 */
export function installFleetPage(root: HTMLElement, baseUrl = ''): void {
  if (location.hash === '#fleet') mount(root, baseUrl);
  // The header links here: mount when the hash changes too (once).
  globalThis.addEventListener('hashchange', () => {
    if (location.hash === '#fleet' && !root.ownerDocument.getElementById('fleet')) mount(root, baseUrl);
  });
}

function mount(root: HTMLElement, baseUrl: string): void {
  const doc = root.ownerDocument;
  const section = doc.createElement('section');
  section.id = 'fleet';
  section.dataset['state'] = 'idle';
  section.innerHTML = `
    <h2>Fleet</h2>
    <form id="fleet-auth"><label>Admin API key <input id="fleet-key" type="password" autocomplete="off" /></label>
      <button type="submit">Show fleet</button></form>
    <p id="fleet-status" role="status"></p>
    <h3>Devices</h3>
    <table id="fleet-devices"><thead><tr><th>device</th><th>name</th><th>group</th><th>versions</th><th>variant</th><th>health</th>
      <th>p50</th><th>events</th><th>last seen</th><th>latency (recent)</th></tr></thead><tbody></tbody></table>
    <h3>Deployments</h3>
    <table id="fleet-deployments"><thead><tr><th>deployment</th><th>model</th><th>target</th><th>status</th>
      <th>devices</th></tr></thead><tbody></tbody></table>`;
  root.prepend(section);
  const key = section.querySelector<HTMLInputElement>('#fleet-key')!;
  const status = section.querySelector<HTMLElement>('#fleet-status')!;
  key.value = sessionStorage.getItem(KEY_STORE) ?? '';
  let timer: ReturnType<typeof setInterval> | undefined;

  async function refresh(): Promise<void> {
    const client = createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${baseUrl}/trpc`, headers: () => ({ authorization: `Bearer ${key.value.trim()}` }) })],
    });
    section.dataset['state'] = 'loading';
    try {
      const [devices, deployments] = await Promise.all([client.devices.list.query(), client.deployments.list.query()]);
      renderDevices(section.querySelector<HTMLTableSectionElement>('#fleet-devices tbody')!, devices, Date.now());
      renderDeployments(section.querySelector<HTMLTableSectionElement>('#fleet-deployments tbody')!, deployments);
      status.textContent = `${devices.length} device${devices.length === 1 ? '' : 's'}, ${deployments.length} deployment${deployments.length === 1 ? '' : 's'}; updated ${new Date().toLocaleTimeString()}`;
      section.dataset['state'] = 'ready';
    } catch (err) {
      status.textContent = formatError(describeError(err, 'server'));
      section.dataset['state'] = 'error';
    }
  }

  section.querySelector('form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, key.value.trim());
    void refresh();
    timer ??= setInterval(() => void refresh(), 5000);
  });
  if (key.value) section.querySelector('form')!.requestSubmit();
}
