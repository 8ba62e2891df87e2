import type { Sample } from '@lepton/onnx';

/**
 * Iterate samples while drawing a one-line progress bar on stderr. Only on a terminal: piped output and --json
 * runs stay clean.
 */
export async function* withProgress(samples: Sample[], label: string): AsyncGenerator<Sample> {
  const tty = process.stderr.isTTY === true;
  const total = samples.length;
  let last = -1;
  const draw = (done: number): void => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  let done = 0;
  try {
    for (const s of samples) {
      yield s;
      done++;
      if (tty) draw(done);
    }
  } finally {
    if (tty) process.stderr.write('\n');
  }
}
