import type { VadOutcome } from './commands/vad';

/**
 * The `--json` document: exactly these keys, so scripts can rely on its shape; `warnings` only when the platform
 * said something about the input (a cut file), as { code, message, details }.
 */
export function vadJson(out: VadOutcome): string {
  const doc = {
    segments: out.segments.map((s) => ({ start: s.start, end: s.end, probability: s.probability })),
    chunks: out.chunks,
    answeredBy: out.answeredBy,
    ...(out.warnings ? { warnings: out.warnings.map((w) => ({ code: w.code, message: w.message, details: w.details })) } : {}),
  };
  return JSON.stringify(doc, null, 2);
}

/** One line per segment (`1.02-3.46 s  (p=0.93)`), a summary line, and a `warning CODE: message` line per warning. */
export function vadHuman(file: string, out: VadOutcome): string {
  const lines = out.segments.map((s) => `${s.start.toFixed(2)}-${s.end.toFixed(2)} s  (p=${s.probability.toFixed(2)})`);
  const speech = out.segments.reduce((sum, s) => sum + (s.end - s.start), 0);
  const n = out.segments.length;
  lines.push(
    `${file}: ${n === 0 ? 'no speech' : `${n} segment${n === 1 ? '' : 's'}, ${speech.toFixed(2)} s of speech`} in ` +
      `${out.durationSec.toFixed(2)} s of audio (${out.chunks} chunks), answered by ${out.answeredBy}`,
  );
  for (const w of out.warnings ?? []) lines.push(`warning ${w.code}: ${w.message}`);
  return lines.join('\n');
}
