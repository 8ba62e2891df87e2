import type { ParityReport } from '@lepton/api';

const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '∞' : x === 0 ? '0' : x.toPrecision(digits));

/** The parity report as tables: platforms (runtime, options, digest), then each output's comparisons. */
export function renderParityReport(target: HTMLElement, report: ParityReport): void {
  const tol = report.tolerances.map((t) => `${t.dtype}/${t.precision}: ${t.rule === 'exact' ? 'exact' : `rtol ${t.rtol}, atol ${t.atol}`}`).join('; ');
  const platforms = report.platforms
    .map((p) => {
      const opts = p.sessionOptions ? `${p.sessionOptions.graphOptimizationLevel}, ${p.sessionOptions.intraOpNumThreads}/${p.sessionOptions.interOpNumThreads} threads` : '–';
      const outcome = p.ok ? 'ok' : `${p.error?.code}: ${p.error?.message}`;
      return `<tr><td>${p.platform}</td><td>${esc(p.runtime ?? '–')}</td><td>${opts}</td><td><code>${(p.feedsSha256 ?? 'not reported').slice(0, 16)}</code></td><td>${esc(outcome)}</td></tr>`;
    })
    .join('');
  const outputs = report.outputs
    .flatMap((o) =>
      o.comparisons.map((c) => {
        const argmax = c.argmax ? `${c.argmax.agree}/${c.argmax.rows}${c.argmax.nearTies ? ` (${c.argmax.nearTies} near ties)` : ''}` : '–';
        return `<tr class="${c.pass ? 'pass' : 'fail'}"><td>${esc(o.name)}</td><td>${c.platform}</td><td>${num(c.maxAbs)}</td><td>${num(c.maxRel)}</td><td>${num(c.maxUlp, 6)}</td><td>${num(c.cosine, 8)}</td><td>${argmax}</td><td>${c.pass ? 'pass' : esc(c.reason ?? 'fail')}</td></tr>`;
      }),
    )
    .join('');
  target.innerHTML = `<p>${esc(report.model)}@${esc(report.version)} (${report.precision}); reference: ${report.reference}; tolerance ${esc(tol)};
    preprocessing ${report.preprocessing.identical ? 'identical' : 'DIFFERS'} on every reporting platform.</p>
    <table><thead><tr><th>platform</th><th>runtime</th><th>session options</th><th>feeds sha256</th><th>run</th></tr></thead><tbody>${platforms}</tbody></table>
    <table><thead><tr><th>output</th><th>platform</th><th>max abs</th><th>max rel</th><th>max ulp</th><th>cosine</th><th>argmax</th><th>verdict</th></tr></thead><tbody>${outputs}</tbody></table>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
