import type { Variant, VariantJob, VariantReport } from '@lepton/contracts';

/** Rendering of variant builds: pure functions from server data to text and DOM (variants-page wires them). */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "int8-edge (int8, edge, 698.1 KiB, 790b9fa4)": what a variant is, with the start of its sha256. */
export function variantText(v: Variant): string {
  return `${v.id} (${v.precision}, ${v.target}, ${formatBytes(v.size)}, ${v.sha256.slice(0, 8)})`;
}

/** One line a person can read: size ratio, decision agreement, max abs diff, SQNR and latency ratio vs fp32. */
export function reportSummary(r: VariantReport): string {
  const parts = [`size ${r.size.ratio.toFixed(2)}x`];
  for (const o of r.outputs) {
    const sqnr = o.sqnrDb === null ? 'identical' : `SQNR ${o.sqnrDb.toFixed(1)} dB`;
    parts.push(`${o.name}: agreement ${(o.agreement * 100).toFixed(1)}% of ${o.decisions}, max |diff| ${o.maxAbsDiff.toPrecision(3)}, ${sqnr}`);
  }
  if (r.latency) parts.push(`latency ${r.latency.ratio.toFixed(2)}x`);
  return parts.join(' · ');
}

/** "queued", "running 45% (evaluating)", "succeeded", "failed: CODE: message". */
export function statusText(j: VariantJob): string {
  if (j.status === 'running') return `running ${Math.round(j.progress * 100)}%${j.stage ? ` (${j.stage})` : ''}`;
  if (j.status === 'failed') return `failed: ${j.error?.code ?? 'INTERNAL'}: ${j.error?.message ?? ''}`;
  return j.status;
}

function cell(doc: Document, text: string, cls?: string): HTMLTableCellElement {
  const td = doc.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

/** One row per job: model, target, pass, status with a progress bar, the variant built, its report summary. */
export function renderJobs(tbody: HTMLTableSectionElement, jobs: VariantJob[], variants: Map<string, Variant>): void {
  const doc = tbody.ownerDocument;
  tbody.replaceChildren();
  for (const j of jobs) {
    const tr = doc.createElement('tr');
    tr.dataset['job'] = j.id;
    tr.dataset['status'] = j.status;
    const status = cell(doc, statusText(j), `status ${j.status}`);
    const bar = doc.createElement('progress');
    bar.max = 1;
    bar.value = j.progress;
    status.prepend(bar, ' ');
    const variant = j.variantId ? variants.get(`${j.model}@${j.version}/${j.variantId}`) : undefined;
    tr.append(
      cell(doc, `${j.model}@${j.version}`),
      cell(doc, j.target),
      cell(doc, j.pass),
      status,
      cell(doc, variant ? variantText(variant) : (j.variantId ?? '-'), 'mono'),
      cell(doc, j.report ? reportSummary(j.report) : '-', 'report'),
    );
    tbody.append(tr);
  }
}
