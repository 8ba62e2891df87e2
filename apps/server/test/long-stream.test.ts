import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postWavStream } from '@lepton/node-platform';
import { longFixture, speechFixture } from '@lepton/test-fixtures';
import { tempDataDir } from './helpers';

const root = resolve(import.meta.dirname, '../../..');
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

/** Start `node --import tsx apps/server/src/main.ts` the way other apps' tests do, and parse its one line. */
async function spawnServer(): Promise<{ url: string; pid: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LEPTON_DATA_DIR: tempDataDir(), LEPTON_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /^Lepton server listening on (http:\/\/\S+)$/m.exec(out);
      if (m) ok(m[1]!);
    });
    proc.once('exit', (code) => fail(new Error(`server exited with ${code}: ${out}`)));
  });
  return { url, pid: proc.pid! };
}

const statusKb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe('a one-hour WAV streamed through POST /api/v1/vad/detect', () => {
  it(
    'is answered in full while the server process grows by less than 150 MB',
    async () => {
      const file = longFixture(3600);
      expect(statSync(file).size).toBeGreaterThan(115_000_000);
      const { url, pid } = await spawnServer();
      // Warm up (model loaded, code paths compiled), then reset the peak-RSS counter and measure from here.
      await postWavStream(url, speechFixture('quick').path);
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const baseline = statusKb(pid, 'VmRSS');
      const res = await postWavStream(url, file, { includeProbabilities: false });
      const grownMb = (statusKb(pid, 'VmHWM') - baseline) / 1024;
      console.log(`one-hour stream: server RSS ${(baseline / 1024).toFixed(0)} MB -> peak +${grownMb.toFixed(1)} MB; total ${(res.timings.totalMs / 1000).toFixed(1)} s, inference ${(res.timings.inferenceMs / 1000).toFixed(1)} s`);
      expect(res.durationSec).toBeCloseTo(3600, 3);
      expect(res.chunks).toBe(Math.ceil((3600 * 16000) / 512));
      expect(grownMb).toBeLessThan(150);
    },
    240_000,
  );
});
