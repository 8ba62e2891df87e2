import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLoopback, percentile, runLoadTest, toCsv, toTable } from '../src';
import { lepton, spawnServer, type Proc } from './processes';

let server: Proc;
beforeAll(async () => {
  server = await spawnServer({ dataDir: mkdtempSync(join(tmpdir(), 'lepton-loadtest-')), token: 'lepton-test-token' });
});
afterAll(() => server?.stop());

describe('lepton loadtest', () => {
  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 90, 95, 99, 100].map((p) => percentile(xs, p))).toEqual([50, 90, 95, 99, 100]);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses anything but loopback targets', () => {
    expect(() => checkLoopback('http://example.com:8080')).toThrow(/not a loopback/);
    expect(() => checkLoopback('http://10.0.0.1')).toThrow(/not a loopback/);
    expect(checkLoopback('http://127.0.0.1:1').hostname).toBe('127.0.0.1');
    expect(checkLoopback('http://[::1]:1').hostname).toBe('[::1]');
  });

  it('runs bounded steps over every protocol on Silero and reports each', async () => {
    for (const protocol of ['trpc', 'kserve-json', 'kserve-binary'] as const) {
      const results = await runLoadTest({ url: server.url, model: 'silero-vad-v5', protocol, concurrency: [1, 4], durationSec: 5, maxRequests: 20 });
      expect(results.map((r) => [r.protocol, r.mode, r.level, r.requests, r.errors])).toEqual([
        [protocol, 'concurrency', 1, 20, 0],
        [protocol, 'concurrency', 4, 20, 0],
      ]);
      for (const r of results) {
        expect(r.throughput).toBeGreaterThan(0);
        expect(r.p50Ms).toBeLessThanOrEqual(r.p99Ms);
      }
    }
  });

  it('runs an open-loop rate step', async () => {
    const [r] = await runLoadTest({ url: server.url, model: 'silero-vad-v5', protocol: 'kserve-binary', rate: [50], durationSec: 0.4 });
    expect(r!.requests).toBe(20);
    expect(r!.mode).toBe('rate');
    expect(toTable([r!])).toMatch(/^\| protocol \| mode \| level/);
    expect(toCsv([r!]).split('\n')[1]).toMatch(/^kserve-binary,rate,50,20,0,/);
  });

  it('works as a command with JSON output', async () => {
    const run = await lepton(['loadtest', '--url', server.url, '--model', 'silero-vad-v5', '--concurrency', '2', '--duration', '5', '--max-requests', '10', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { results: { level: number; requests: number }[] };
    expect(out.results.map((r) => [r.level, r.requests])).toEqual([[2, 10]]);
    const bad = await lepton(['loadtest', '--url', server.url, '--model', 'nope', '--duration', '1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error MODEL_NOT_FOUND: model nope: .*not registered/);
  });

  it('--batch and --max-requests take one integer: a list was silently cut to its first value, and the message spoke of lists', async () => {
    for (const [flag, value, range] of [
      ['--batch', '1,2', '[1, 4096]'],
      ['--batch', '0', '[1, 4096]'],
      ['--max-requests', '5,6', '[1, 10000000]'],
      ['--max-requests', '-1', '[1, 10000000]'],
    ] as const) {
      const run = await lepton(['loadtest', '--url', server.url, '--model', 'silero-vad-v5', '--duration', '1', flag, value]);
      expect(run.code, `${flag} ${value}`).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toBe(`error BAD_REQUEST: option '${flag} <n>' argument '${value}' is invalid. expected one integer in ${range}.`);
    }
  });

  it("--model must be a model id: '' and ' x' are refused before any request (the table read 'model : model \"\" ...')", async () => {
    for (const value of ['', ' silero-vad-v5']) {
      const run = await lepton(['loadtest', '--url', server.url, '--model', value, '--duration', '1']);
      expect(run.code, JSON.stringify(value)).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toBe(`error BAD_REQUEST: option '--model <id>' argument '${value}' is invalid. expected a model id such as silero-vad-v5; got ${JSON.stringify(value)}.`);
    }
  });
});
