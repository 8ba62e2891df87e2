import { decodeWireTensor, encodeWireTensor } from '@lepton/contracts';
import type { InferOutcome } from './run-infer';

/** Values shown per output in the human form. */
const SHOWN = 8;

/** The `--json` document: the infer response less timings (they differ run to run), keys in this order. */
export function inferJson(out: InferOutcome): string {
  return JSON.stringify({ model: out.model, version: out.version, outputs: out.outputs, answeredBy: out.answeredBy }, null, 2);
}

/**
 * One line per output (`output float32 [1, 10]: 0.12, -3.4, ... (10 values)`), plus its argmax for a [1, N]
 * output (a classifier's logits or probabilities), and a last line saying who answered.
 */
export function inferHuman(out: InferOutcome): string {
  const lines: string[] = [];
  for (const wire of out.outputs) {
    const t = decodeWireTensor(wire);
    const values = encodeWireTensor(wire.name, t, 'array').data as (number | string | boolean)[];
    const first = values.slice(0, SHOWN).map((v) => (typeof v === 'string' && t.dtype === 'string' ? JSON.stringify(v) : String(v)));
    const more = values.length > SHOWN ? `, ... (${values.length} values)` : '';
    lines.push(`${wire.name} ${wire.dtype} [${wire.shape.join(', ')}]: ${first.join(', ')}${more}`);
    if (wire.shape.length === 2 && wire.shape[0] === 1 && wire.shape[1]! > 1 && t.dtype !== 'string' && t.dtype !== 'bool') {
      let best = 0;
      for (let i = 1; i < values.length; i++) if (Number(values[i]) > Number(values[best])) best = i;
      lines.push(`  argmax ${best} (${String(values[best])})`);
    }
  }
  lines.push(`${out.model}@${out.version}: ${out.outputs.length} output${out.outputs.length === 1 ? '' : 's'}, answered by ${out.answeredBy}`);
  return lines.join('\n');
}
