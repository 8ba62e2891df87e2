import { installKeyPanel, keyFormHtml, plural } from './key-panel';
import { renderDeployments, renderDevices } from './fleet-view';

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
    ${keyFormHtml('fleet', 'Admin API key', 'Show fleet')}
    <h3>Devices</h3>
    <table id="fleet-devices"><thead><tr><th>device</th><th>name</th><th>group</th><th>versions</th><th>variant</th><th>health</th>
      <th>p50</th><th>events</th><th>last seen</th><th>latency (recent)</th></tr></thead><tbody></tbody></table>
    <h3>Deployments</h3>
    <table id="fleet-deployments"><thead><tr><th>deployment</th><th>model</th><th>target</th><th>status</th>
      <th>devices</th></tr></thead><tbody></tbody></table>`;
  root.prepend(section);
  installKeyPanel({
    section,
    prefix: 'fleet',
    baseUrl,
    stores: ['lepton.adminKey'],
    everyMs: 5000,
    load: async (client) => {
      const [devices, deployments] = await Promise.all([client.devices.list.query(), client.deployments.list.query()]);
      renderDevices(section.querySelector<HTMLTableSectionElement>('#fleet-devices tbody')!, devices, Date.now());
      renderDeployments(section.querySelector<HTMLTableSectionElement>('#fleet-deployments tbody')!, deployments);
      return { status: `${plural(devices.length, 'device')}, ${plural(deployments.length, 'deployment')}; updated ${new Date().toLocaleTimeString()}` };
    },
  });
}
