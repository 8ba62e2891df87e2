import type { ParityReport } from '@lepton/api';

const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '∞' : x === 0 ? '0' : x.toPrecision(digits));

/** How many hex digits of a sha256 the page shows (the full digest is the cell's title). */
export const SHA_PREFIX = 12;

const sha = (s: string | undefined): string => (s ? `<code title="${esc(s)}">${esc(s.slice(0, SHA_PREFIX))}</code>` : 'not reported');

type Tolerance = ParityReport['tolerances'][number];
const tolText = (t: Tolerance | undefined): string => (!t ? '–' : t.rule === 'exact' ? `${t.dtype}/${t.precision}: exact` : `${t.dtype}/${t.precision}: rtol ${t.rtol}, atol ${t.atol}`);

/**
 * The parity report as tables: the variant every platform ran and the tolerance applied; platforms (runtime,
 * options, the artifact each ran, feeds digest); each output's comparisons with its tolerance; and, when asked,
 * each platform's difference from the fp32 model. Rows carry data-platform (and data-output) for tests.
 */
export function renderParityReport(target: HTMLElement, report: ParityReport): void {
  const tol = report.tolerances.map(tolText).join('; ');
  const expected = report.variant?.sha256;
  const platforms = report.platforms
    .map((p) => {
      const opts = p.sessionOptions ? `${p.sessionOptions.graphOptimizationLevel}, ${p.sessionOptions.intraOpNumThreads}/${p.sessionOptions.interOpNumThreads} threads` : '–';
      const outcome = p.ok ? 'ok' : `${p.error?.code}: ${p.error?.message}`;
      const artifactOk = !p.artifactSha256 || !expected || p.artifactSha256 === expected;
      const artifact = `${sha(p.artifactSha256)}${p.variant ? ` (${esc(p.variant)})` : ''}${artifactOk ? '' : ' DIFFERS'}`;
      return `<tr data-platform="${p.platform}"><td>${p.platform}</td><td>${esc(p.runtime ?? '–')}</td><td>${opts}</td><td class="artifact${artifactOk ? '' : ' fail'}">${artifact}</td><td><code>${(p.feedsSha256 ?? 'not reported').slice(0, 16)}</code></td><td>${esc(outcome)}</td></tr>`;
    })
    .join('');
  const tolOf = (dtype: string) => report.tolerances.find((t) => t.dtype === dtype);
  const outputs = report.outputs
    .flatMap((o) =>
      o.comparisons.map((c) => {
        const argmax = c.argmax ? `${c.argmax.agree}/${c.argmax.rows}${c.argmax.nearTies ? ` (${c.argmax.nearTies} near ties)` : ''}` : '–';
        return `<tr class="${c.pass ? 'pass' : 'fail'}" data-output="${esc(o.name)}" data-platform="${c.platform}"><td>${esc(o.name)}</td><td>${c.platform}</td><td class="count">${c.count}</td><td class="max-abs">${num(c.maxAbs)}</td><td class="max-rel">${num(c.maxRel)}</td><td>${num(c.maxUlp, 6)}</td><td>${num(c.cosine, 8)}</td><td>${argmax}</td><td class="tolerance">${esc(tolText(tolOf(o.dtype)))}</td><td class="verdict">${c.pass ? 'pass' : esc(c.reason ?? 'fail')}</td></tr>`;
      }),
    )
    .join('');
  const v = report.variant;
  const variant = v ? `variant ${esc(v.id)} (${v.precision}/${v.target}), sha256 ${sha(v.sha256)}` : `no variant named (${report.precision})`;
  const a = report.artifacts;
  const artifacts = `artifacts ${a.identical ? 'identical' : 'DIFFER'}${a.unreported.length ? `; not reported by ${a.unreported.join(', ')}` : ''}`;
  const fp32 = report.fp32Reference;
  const fp32Rows = fp32
    ? fp32.outputs
        .flatMap((o) => o.comparisons.map((c) => `<tr data-output="${esc(o.name)}" data-platform="${c.platform}"><td>${esc(o.name)}</td><td>${c.platform}</td><td class="max-abs">${num(c.maxAbs)}</td><td class="max-rel">${num(c.maxRel)}</td><td>${num(c.cosine, 8)}</td><td>${num(c.sqnrDb)}</td><td>${c.mismatches}/${c.count}</td></tr>`))
        .join('')
    : '';
  target.innerHTML = `<p id="parity-summary">${esc(report.model)}@${esc(report.version)}: <span id="parity-variant-ran">${variant}</span>; reference: ${report.reference};
    tolerance <span id="parity-tolerance">${esc(tol)}</span>; <span id="parity-artifacts">${artifacts}</span>;
    preprocessing ${report.preprocessing.identical ? 'identical' : 'DIFFERS'} on every reporting platform.</p>
    <table id="parity-platform-table"><thead><tr><th>platform</th><th>runtime</th><th>session options</th><th>artifact sha256</th><th>feeds sha256</th><th>run</th></tr></thead><tbody>${platforms}</tbody></table>
    <table id="parity-outputs"><thead><tr><th>output</th><th>platform</th><th>values</th><th>max abs</th><th>max rel</th><th>max ulp</th><th>cosine</th><th>argmax</th><th>tolerance</th><th>verdict</th></tr></thead><tbody>${outputs}</tbody></table>
    ${fp32 ? `<h3>Against the fp32 model (sha256 ${sha(fp32.sha256)}, run on the server; informational, same tolerance)</h3>
    <table id="parity-vs-fp32"><thead><tr><th>output</th><th>platform</th><th>max abs</th><th>max rel</th><th>cosine</th><th>SQNR dB</th><th>outside tolerance</th></tr></thead><tbody>${fp32Rows}</tbody></table>` : ''}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
