import type { AccuracyReport } from './schema';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const num = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** A plain-text table of reports, one row per variant (and per output), for terminals and notes. */
export function formatReportTable(reports: AccuracyReport[]): string {
  const header = ['variant', 'size', 'ratio', 'top-1', 'ref top-1', 'mean CE', 'ref CE', 'output', 'agree', 'max |diff|', 'SQNR dB', 'latency x'];
  const rows: string[][] = [];
  for (const r of reports) {
    r.outputs.forEach((o, i) => {
      const first = i === 0;
      rows.push([
        first ? r.variant : '',
        first ? `${(r.size.bytes / 1024).toFixed(1)} KiB` : '',
        first ? num(r.size.ratio, 3) : '',
        first && r.labelled ? pct(r.labelled.accuracy) : '',
        first && r.labelled ? pct(r.labelled.referenceAccuracy) : '',
        first && r.labelled ? num(r.labelled.meanCrossEntropy) : '',
        first && r.labelled ? num(r.labelled.referenceMeanCrossEntropy) : '',
        o.name,
        pct(o.agreement),
        num(o.maxAbsDiff, 5),
        o.sqnrDb === null ? 'inf' : num(o.sqnrDb, 1),
        first && r.latency ? num(r.latency.ratio, 2) : '',
      ]);
    });
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
