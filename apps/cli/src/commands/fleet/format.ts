import type { Deployment, DeviceSummary } from '@lepton/contracts';

/** Columns padded to their widest cell; the header row first. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** "3m ago" style ages, from `now`. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

/** The variant the server assigns each model and why: "int8-edge (int8: 1024 MB memory is under 4096 MB)". */
export function variantsText(assigned: DeviceSummary['assigned']): string {
  const entries = Object.entries(assigned ?? {});
  const one = ([m, a]: (typeof entries)[number]) => `${entries.length > 1 ? `${m} ` : ''}${a.variant ?? 'none'} (${a.reason})`;
  return entries.map(one).join('; ') || '-';
}

export function devicesTable(devices: DeviceSummary[], now = Date.now()): string {
  if (devices.length === 0) return 'no devices enrolled';
  const rows = [['DEVICE', 'NAME', 'GROUP', 'MODELS', 'ERRORS', 'P50 MS', 'EVENTS', 'LAST SEEN', 'VARIANT']];
  for (const d of devices) {
    const models = Object.entries(d.installed).map(([m, v]) => `${m}@${v.version} (${v.state})`).join(', ') || '-';
    const p50 = median(d.latencies);
    rows.push([
      d.id,
      d.name,
      d.group ?? '-',
      models,
      `${(d.errorRate * 100).toFixed(1)}%`,
      p50 === undefined ? '-' : p50.toFixed(2),
      String(d.events),
      age(d.lastSeenAt, now),
      variantsText(d.assigned),
    ]);
  }
  return table(rows);
}

function targetText(t: Deployment['target']): string {
  if ('all' in t) return 'all devices';
  if ('group' in t) return `group ${t.group}`;
  return `${t.deviceIds.length} device${t.deviceIds.length === 1 ? '' : 's'}`;
}

function countsText(c: Record<string, number>): string {
  return Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') || 'no reports yet';
}

export function deploymentsTable(list: Deployment[]): string {
  if (list.length === 0) return 'no deployments';
  const rows = [['DEPLOYMENT', 'MODEL', 'TARGET', 'PERCENT', 'STATUS', 'DEVICES']];
  for (const d of list) rows.push([d.id, `${d.model}@${d.version}`, targetText(d.target), `${d.percent}%`, d.status, countsText(d.counts)]);
  return table(rows);
}

export function deploymentStatus(d: Deployment & { devices: { deviceId: string; state: string; message?: string; updatedAt: string }[] }): string {
  const head = [
    `${d.id}: ${d.model}@${d.version} to ${targetText(d.target)} (${d.percent}%), variant ${d.variantPolicy}`,
    `status ${d.status}${d.haltedReason ? ` (${d.haltedReason})` : ''}; halts above ${(d.maxFailureRate * 100).toFixed(0)}% failed devices; devices roll back above ${(d.errorRateThreshold * 100).toFixed(0)}% errors`,
    `devices: ${countsText(d.counts)}`,
  ];
  if (d.devices.length === 0) return head.join('\n');
  const rows = [['DEVICE', 'STATE', 'UPDATED', 'MESSAGE']];
  for (const x of d.devices) rows.push([x.deviceId, x.state, x.updatedAt, x.message ?? '']);
  return `${head.join('\n')}\n${table(rows)}`;
}
