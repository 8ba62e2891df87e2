import type { ParityReport } from '@lepton/api';

const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? 'inf' : x === 0 ? '0' : x.toPrecision(digits));

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

/** The parity report for people: tolerances, platforms, preprocessing digests, then each output per platform. */
export function formatParityReport(r: ParityReport): string {
  const lines: string[] = [];
  const tol = r.tolerances.map((t) => `${t.dtype}/${t.precision} ${t.rule === 'exact' ? 'exact' : `rtol ${t.rtol} atol ${t.atol}`}`).join('; ');
  const variant = r.variant ? `variant ${r.variant.id} (${r.variant.precision}, ${r.variant.target}, sha256 ${r.variant.sha256.slice(0, 16)})` : r.precision;
  lines.push(`parity ${r.model}@${r.version} ${variant}, reference ${r.reference}; tolerance: ${tol || 'n/a'}`);
  lines.push(
    ...table([
      ['platform', 'runtime', 'session options', 'artifact sha256', 'feeds sha256', 'answered by', 'run'],
      ...r.platforms.map((p) => [
        p.platform,
        p.runtime ?? '-',
        p.sessionOptions ? `${p.sessionOptions.graphOptimizationLevel}, ${p.sessionOptions.intraOpNumThreads}/${p.sessionOptions.interOpNumThreads} threads, ${p.sessionOptions.executionMode}` : '-',
        p.artifactSha256 ? `${p.artifactSha256.slice(0, 16)}${p.variant ? ` (${p.variant})` : ''}` : 'not reported',
        p.feedsSha256 ? p.feedsSha256.slice(0, 16) : 'not reported',
        p.answeredBy ?? '-',
        p.ok ? `ok (${p.steps} call${p.steps === 1 ? '' : 's'})` : `${p.error?.code}: ${p.error?.message}`,
      ]),
    ]),
  );
  const pre = r.preprocessing;
  lines.push(`preprocessed feeds: ${pre.identical ? 'identical' : 'DIFFER'} on ${Object.keys(pre.digests).join(', ') || 'no platform'}${pre.unreported.length ? ` (not reported by ${pre.unreported.join(', ')})` : ''}`);
  const art = r.artifacts;
  lines.push(`model artifact: ${art.identical ? 'same' : 'DIFFERS'} on ${Object.keys(art.digests).join(', ') || 'no platform'}${art.unreported.length ? ` (not reported by ${art.unreported.join(', ')})` : ''}`);
  lines.push(
    ...table([
      ['output', 'platform', 'max abs', 'max rel', 'max ulp', 'cosine', 'argmax agree', 'verdict'],
      ...r.outputs.flatMap((o) =>
        o.comparisons.map((c) => [
          `${o.name} ${o.dtype}[${o.shape.join(',')}]`,
          c.platform,
          num(c.maxAbs),
          num(c.maxRel),
          num(c.maxUlp, 6),
          num(c.cosine, 8),
          c.argmax ? `${c.argmax.agree}/${c.argmax.rows}${c.argmax.nearTies ? ` (${c.argmax.nearTies} near tie)` : ''}` : '-',
          c.pass ? 'pass' : `FAIL: ${c.reason}`,
        ]),
      ),
    ]),
  );
  if (r.fp32Reference) {
    lines.push(`difference from the fp32 model (sha256 ${r.fp32Reference.sha256.slice(0, 16)}), reported, not judged:`);
    lines.push(
      ...table([
        ['output', 'platform', 'max abs', 'max rel', 'cosine', 'sqnr dB', 'argmax agree'],
        ...r.fp32Reference.outputs.flatMap((o) =>
          o.comparisons.map((c) => [o.name, c.platform, num(c.maxAbs), num(c.maxRel), num(c.cosine, 8), num(c.sqnrDb), c.argmax ? `${c.argmax.agree}/${c.argmax.rows}` : '-']),
        ),
      ]),
    );
  }
  lines.push(r.pass ? 'PASS: every platform agrees within the stated tolerances' : 'FAIL: see the rows above');
  return lines.join('\n');
}
