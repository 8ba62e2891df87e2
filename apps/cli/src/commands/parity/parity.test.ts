import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeWireTensor } from '@lepton/contracts';
import type { ParityReport } from '@lepton/api';
import { bundledModelPath } from '@lepton/node-platform';
import { createProgram } from '../../program';
import { PARITY_FAILED_EXIT, registerParityCommand } from './index';

const dir = mkdtempSync(join(tmpdir(), 'lepton-cli-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Exit statuses the command asked for (a report that says FAIL asks for 2). */
let exits: number[] = [];

async function lepton(...args: string[]): Promise<string> {
  const lines: string[] = [];
  exits = [];
  const program = createProgram({ out: (t) => lines.push(t) });
  registerParityCommand(program, { out: (t) => lines.push(t), exit: (code) => exits.push(code) });
  program.exitOverride();
  for (const sub of program.commands) sub.exitOverride().configureOutput({ outputError: () => undefined });
  await program.parseAsync(['node', 'lepton', ...args]);
  return lines.join('\n');
}

const f32 = (name: string, shape: number[], v = 0.01) => encodeWireTensor(name, { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });

describe('lepton parity (no server needed for --platforms local)', () => {
  const inputs = join(dir, 'silero.json');
  writeFileSync(inputs, JSON.stringify({ inputs: [f32('input', [1, 576]), f32('state', [2, 1, 128], 0), { name: 'sr', dtype: 'int64', shape: [], data: ['16000'] }] }));

  it('runs an .onnx file in-process and reports what it fed and how', async () => {
    const report = JSON.parse(await lepton('parity', bundledModelPath('silero-vad-v5'), inputs, '--platforms', 'local', '--json')) as ParityReport;
    expect(report.model).toMatch(/^parity-[0-9a-f]{12}$/);
    expect(report.platforms).toHaveLength(1);
    expect(report.platforms[0]).toMatchObject({ platform: 'local', ok: true, steps: 1, sessionOptions: { graphOptimizationLevel: 'all', intraOpNumThreads: 1 } });
    expect(report.preprocessing.digests['local']).toMatch(/^[0-9a-f]{64}$/);
    expect(report.outputs.map((o) => o.name)).toEqual(['output', 'stateN']);
  });

  it('prints a readable report', async () => {
    const text = await lepton('parity', bundledModelPath('silero-vad-v5'), inputs, '--platforms', 'local');
    expect(text).toContain('local');
    expect(text).toContain('all, 1/1 threads, sequential');
    expect(text).toMatch(/^PASS/m);
    expect(exits).toEqual([]);
  });

  it('names a missing input with INPUT_MISSING', async () => {
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify([f32('input', [1, 576])]));
    const report = JSON.parse(await lepton('parity', bundledModelPath('silero-vad-v5'), partial, '--platforms', 'local', '--json')) as ParityReport;
    expect(report.platforms[0]!.error).toMatchObject({ code: 'INPUT_MISSING' });
    expect(report.pass).toBe(false);
    expect(exits).toEqual([PARITY_FAILED_EXIT]);
  });

  it('exits 2 from the real command when the report says FAIL, after printing it', () => {
    const partial = join(dir, 'partial-cli.json');
    writeFileSync(partial, JSON.stringify([f32('input', [1, 576])]));
    const bin = fileURLToPath(new URL('../../../bin/lepton.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'parity', bundledModelPath('silero-vad-v5'), partial, '--platforms', 'local'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toMatch(/^FAIL/m);
    expect(run.stdout).toContain('INPUT_MISSING');
  });

  it('rejects unknown platforms and missing inputs files', async () => {
    await expect(lepton('parity', 'm', inputs, '--platforms', 'server,moon')).rejects.toThrow(/server,edge,local,browser/);
    await expect(lepton('parity', bundledModelPath('silero-vad-v5'), join(dir, 'nope.json'), '--platforms', 'local')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('says which server it could not reach for a registry id', async () => {
    await expect(lepton('parity', 'silero-vad-v5', inputs, '--platforms', 'local', '--server', 'http://127.0.0.1:9')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    // LEPTON_SERVER_URL is --server's default, as for vad and infer.
    process.env['LEPTON_SERVER_URL'] = 'http://127.0.0.1:9';
    try {
      await expect(lepton('parity', 'silero-vad-v5', inputs, '--platforms', 'local')).rejects.toThrow(/127\.0\.0\.1:9/);
    } finally {
      delete process.env['LEPTON_SERVER_URL'];
    }
  });
});
