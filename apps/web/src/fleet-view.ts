import type { Deployment, DeviceSummary } from '@lepton/contracts';

/**
 * Rendering of the fleet page: pure functions from server data to DOM (the page wires them to the API).
 * The latency plot is an SVG polyline per device, scaled to its own maximum, so it needs no canvas sizing.
 */
export const PLOT = { width: 160, height: 36, pad: 2 };

/** SVG polyline points for latencies (ms, oldest first): x spread evenly, y from 0 (bottom) to the max (top). */
export function latencyPoints(latencies: readonly number[], width = PLOT.width, height = PLOT.height, pad = PLOT.pad): string {
  if (latencies.length === 0) return '';
  const max = Math.max(...latencies, 1e-9);
  const step = latencies.length > 1 ? (width - 2 * pad) / (latencies.length - 1) : 0;
  return latencies
    .map((v, i) => `${(pad + i * step).toFixed(1)},${(height - pad - (v / max) * (height - 2 * pad)).toFixed(1)}`)
    .join(' ');
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** "12s ago" / "3m ago" / "2h ago"; "never" without a time. */
export function ageText(iso: string | undefined, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** ok / degraded / failing from the error rate and install states. */
export function healthOf(d: DeviceSummary): 'ok' | 'degraded' | 'failing' | 'unknown' {
  const states = Object.values(d.installed).map((m) => m.state);
  if (states.some((s) => s === 'failed') || d.errorRate > 0.5) return 'failing';
  if (states.some((s) => s === 'rolled-back') || d.errorRate > 0.05) return 'degraded';
  return states.length === 0 && d.events === 0 ? 'unknown' : 'ok';
}

function cell(doc: Document, text: string, cls?: string): HTMLTableCellElement {
  const td = doc.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function plot(doc: Document, latencies: readonly number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = doc.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(PLOT.width));
  svg.setAttribute('height', String(PLOT.height));
  svg.setAttribute('viewBox', `0 0 ${PLOT.width} ${PLOT.height}`);
  svg.setAttribute('class', 'latency-plot');
  svg.setAttribute('aria-label', `last ${latencies.length} local latencies, max ${Math.max(0, ...latencies).toFixed(2)} ms`);
  const line = doc.createElementNS(ns, 'polyline');
  line.setAttribute('points', latencyPoints(latencies));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#1f6feb');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  return svg;
}

/** The variant the server assigns each model and why: "int8-edge (int8: 1024 MB memory is under 4096 MB)". */
export function variantsText(assigned: DeviceSummary['assigned']): string {
  const entries = Object.entries(assigned ?? {});
  return entries.map(([m, a]) => `${entries.length > 1 ? `${m} ` : ''}${a.variant ?? 'none'} (${a.reason})`).join('; ') || '-';
}

/** One row per device: id, name, group, versions, variant (and why), health, p50, events, last seen, latency plot. */
export function renderDevices(tbody: HTMLTableSectionElement, devices: DeviceSummary[], now: number): void {
  const doc = tbody.ownerDocument;
  tbody.replaceChildren();
  for (const d of devices) {
    const tr = doc.createElement('tr');
    tr.dataset['device'] = d.id;
    const versions = Object.entries(d.installed).map(([m, v]) => `${m}@${v.version} (${v.state})`).join(', ') || '-';
    const p50 = median(d.latencies);
    const health = healthOf(d);
    tr.append(
      cell(doc, d.id, 'mono'),
      cell(doc, d.name),
      cell(doc, d.group ?? '-'),
      cell(doc, versions, 'versions'),
      cell(doc, variantsText(d.assigned), 'variant'),
      cell(doc, health, `health ${health}`),
      cell(doc, p50 === undefined ? '-' : `${p50.toFixed(2)} ms`),
      cell(doc, `${d.events} (${(d.errorRate * 100).toFixed(1)}% errors)`),
      cell(doc, ageText(d.lastSeenAt, now), 'last-seen'),
    );
    const plotCell = doc.createElement('td');
    plotCell.append(plot(doc, d.latencies));
    tr.append(plotCell);
    tbody.append(tr);
  }
}

export function renderDeployments(tbody: HTMLTableSectionElement, list: Deployment[]): void {
  const doc = tbody.ownerDocument;
  tbody.replaceChildren();
  for (const d of list) {
    const tr = doc.createElement('tr');
    tr.dataset['deployment'] = d.id;
    const target = 'all' in d.target ? 'all devices' : 'group' in d.target ? `group ${d.target.group}` : `${d.target.deviceIds.length} devices`;
    const counts = Object.entries(d.counts).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    tr.append(
      cell(doc, d.id, 'mono'),
      cell(doc, `${d.model}@${d.version}`),
      cell(doc, `${target}, ${d.percent}%`),
      cell(doc, d.haltedReason ? `${d.status}: ${d.haltedReason}` : d.status, `status ${d.status}`),
      cell(doc, counts),
    );
    tbody.append(tr);
  }
}
