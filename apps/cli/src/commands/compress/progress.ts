import type { Sample } from '@lepton/onnx';

/** Where the bar is drawn: process.stderr, or a test's stand-in. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Iterate samples while drawing a one-line progress bar on `stream` (stderr). Only on a terminal: on a stream that
 * is not a TTY (piped, CI logs) nothing is written, and stdout (where --json goes) is never touched. The bar is
 * redrawn in place with `\r` once per whole percent and ends with a newline, also when the loop stops early.
 */
export async function* withProgress(samples: Sample[], label: string, stream: ProgressStream = process.stderr): AsyncGenerator<Sample> {
  const tty = stream.isTTY === true;
  const total = samples.length;
  let last = -1;
  const draw = (done: number): void => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  let done = 0;
  try {
    for (const s of samples) {
      yield s;
      done++;
      if (tty) draw(done);
    }
  } finally {
    if (tty) stream.write('\n');
  }
}
