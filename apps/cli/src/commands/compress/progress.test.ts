import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { Sample } from '@lepton/onnx';
import { matmulModel } from '@lepton/onnx/testing';
import { registerEvalCommand } from './eval';
import { withProgress, type ProgressStream } from './progress';
import { registerQuantizeCommand } from './quantize';

/** A stream that records what is written; `isTTY` as a terminal (true) or a pipe / CI log (false, undefined). */
function stream(isTTY: boolean | undefined): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { ...(isTTY !== undefined ? { isTTY } : {}), writes, write: (t: string) => writes.push(t) };
}

const samples = (n: number): Sample[] => Array.from({ length: n }, (_, i) => ({ feeds: {}, label: i }));

async function drain(it: AsyncIterable<Sample>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

describe('withProgress: the progress bar of int8-static calibration and eval', () => {
  it('on a TTY draws in place once per whole percent and finishes at 100 % with a newline', async () => {
    const s = stream(true);
    expect(await drain(withProgress(samples(3), 'calibrating', s))).toBe(3);
    expect(s.writes).toEqual([
      '\rcalibrating [##########....................] 1/3',
      '\rcalibrating [####################..........] 2/3',
      '\rcalibrating [##############################] 3/3',
      '\n',
    ]);
    const big = stream(true);
    await drain(withProgress(samples(250), 'evaluating', big));
    // 0 % (1/250) up to 100 %: 101 redraws, not 250, then the newline.
    expect(big.writes).toHaveLength(102);
    expect(big.writes.at(-2)).toBe(`\revaluating [${'#'.repeat(30)}] 250/250`);
    expect(big.writes.at(-1)).toBe('\n');
  });

  it('on a stream that is not a TTY (piped, CI) writes nothing at all', async () => {
    for (const tty of [false, undefined]) {
      const s = stream(tty);
      expect(await drain(withProgress(samples(40), 'evaluating', s))).toBe(40);
      expect(s.writes, String(tty)).toEqual([]);
    }
  });

  it('ends the line when the loop stops early (a failed run), leaving the bar where it was', async () => {
    const s = stream(true);
    await expect(
      (async () => {
        for await (const x of withProgress(samples(4), 'evaluating', s)) if (x.label === 2) throw new Error('run failed');
      })(),
    ).rejects.toThrow('run failed');
    expect(s.writes).toEqual(['\revaluating [########......................] 1/4', '\revaluating [###############...............] 2/4', '\n']);
  });
});

describe('--json output never contains progress text, even with the bar drawn on a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-progress-'));
  const fp32 = join(dir, 'matmul.onnx');
  writeFileSync(fp32, matmulModel(2, 24, 12));

  async function lepton(progress: ProgressStream, ...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    const program = new Command().exitOverride();
    registerQuantizeCommand(program, (t) => void lines.push(t), progress).exitOverride();
    registerEvalCommand(program, (t) => void lines.push(t), progress).exitOverride();
    await program.parseAsync(args, { from: 'user' });
    return lines;
  }

  it('quantize --mode int8-static --calib random:8 --json and eval --data random:12 --json', async () => {
    const tty = stream(true);
    const out = join(dir, 'matmul-static.onnx');
    const q = await lepton(tty, 'quantize', fp32, '-o', out, '--mode', 'int8-static', '--calib', 'random:8', '--json');
    const e = await lepton(tty, 'eval', fp32, out, '--data', 'random:12', '--json');
    for (const lines of [q, e]) {
      const text = lines.join('\n');
      expect(text).not.toMatch(/\r|calibrating \[|evaluating \[/);
      expect(() => JSON.parse(text)).not.toThrow();
    }
    expect(JSON.parse(q.join('\n')).report.calibration).toEqual({ method: 'minmax', samples: 8 });
    expect(JSON.parse(e.join('\n')).samples).toBe(12);
    // The bar went to the progress stream instead, and finished.
    expect(tty.writes.filter((w) => w.endsWith(' 8/8') || w.endsWith(' 12/12'))).toEqual([`\rcalibrating [${'#'.repeat(30)}] 8/8`, `\revaluating [${'#'.repeat(30)}] 12/12`]);
    expect(tty.writes.filter((w) => w === '\n')).toHaveLength(2);
  });
});
