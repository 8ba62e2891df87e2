import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTensor } from '@lepton/tensor-core';
import { encodeWireTensor, type Variant } from '@lepton/contracts';
import type { ParityReport } from '@lepton/api';
import { ALSA_NOISE, ALSA_SPEECH } from '@lepton/node-platform/testing';
import { startPlatforms, type Platforms } from './platforms';

// Parity of a quantized VARIANT: Silero VAD's int8-edge build (made by the server's background variant jobs) on the
// server, an edge agent that runs it because it reports 1 GB of memory, the CLI's own process and a headless
// Chromium, all on the same artifact (sha256 checked per platform), judged under the int8 tolerance, with each
// platform's difference from the fp32 model reported beside the verdict.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = 'silero-vad-v5';
const ALL = 'server,edge,local,browser';
let p: Platforms;
let int8: Variant;
let fp32: Variant;

async function lepton(...args: string[]): Promise<ParityReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'apps/cli/bin/lepton.mjs'), ...args], { cwd: REPO_ROOT, maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as ParityReport;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  p = await startPlatforms([], { edgeEnv: { EDGE_MEMORY_MB: '1024', EDGE_POLL_MS: '300', EDGE_BACKOFF_MAX_MS: '1000' } });
  const record = await eventually('the int8-edge build', async () => {
    const r = await p.serverClient.models.get.query({ id: MODEL });
    return r.variants.some((v) => v.id === 'int8-edge') ? r : undefined;
  });
  int8 = record.variants.find((v) => v.id === 'int8-edge')!;
  fp32 = record.variants.find((v) => v.id === 'fp32')!;
  // The small agent swaps to int8-edge on a later sync; its infer says which artifact answered.
  const inputs = [encodeWireTensor('input', createTensor('float32', [1, 576])), encodeWireTensor('state', createTensor('float32', [2, 1, 128]))];
  await eventually('the edge agent to run int8-edge', async () => {
    const r = await p.edgeClient.infer.mutate({ model: MODEL, inputs });
    return r.answeredBy === 'edge' && r.artifact?.sha256 === int8.sha256 ? true : undefined;
  });
}, 300_000);
afterAll(async () => {
  await p?.close();
});

describe("Silero VAD's int8-edge variant on server, edge, local and browser", () => {
  it.each([ALSA_SPEECH[0]!, ALSA_NOISE])('%s: one artifact everywhere, int8 tolerance, fp32 differences reported', async (file) => {
    const report = await lepton('parity', MODEL, file, '--variant', 'int8-edge', '--compare-fp32', '--platforms', ALL, '--server', p.server.url, '--edge', p.edge.url, '--json');
    expect(report.platforms.map((r) => `${r.platform}:${r.ok ? 'ok' : r.error?.message}`)).toEqual(['server:ok', 'edge:ok', 'local:ok', 'browser:ok']);
    expect(report.variant).toEqual({ id: 'int8-edge', precision: 'int8', target: 'edge', sha256: int8.sha256 });
    expect(report.precision).toBe('int8');
    expect(report.tolerances).toEqual([{ dtype: 'float32', precision: 'int8', rtol: 5e-2, atol: 1e-2, rule: 'allclose' }]);
    expect(report.artifacts).toEqual({ identical: true, digests: { server: int8.sha256, edge: int8.sha256, local: int8.sha256, browser: int8.sha256 }, unreported: [] });
    expect(report.platforms.find((r) => r.platform === 'edge')).toMatchObject({ answeredBy: 'edge', variant: 'int8-edge' });
    expect(report.preprocessing.identical).toBe(true);
    const probs = report.outputs[0]!;
    expect(probs.comparisons.map((c) => c.platform)).toEqual(['edge', 'local', 'browser']);
    for (const c of probs.comparisons) {
      expect(c.pass, `${c.platform}: ${c.reason}`).toBe(true);
      expect(c.count).toBe(report.platforms[0]!.steps);
      expect(c.maxAbs!).toBeLessThanOrEqual(1e-2 + 5e-2);
    }
    expect(report.pass).toBe(true);
    // What int8 costs against fp32 on these feeds: measured on every platform, not hidden.
    const ref = report.fp32Reference!;
    expect(ref.sha256).toBe(fp32.sha256);
    expect(ref.outputs[0]!.comparisons.map((c) => c.platform)).toEqual(['server', 'edge', 'local', 'browser']);
    for (const c of ref.outputs[0]!.comparisons) expect(c.maxAbs!).toBeGreaterThan(0);
    const row = (cs: ParityReport['outputs'][number]['comparisons']) => cs.map((c) => `${c.platform} ${c.maxAbs?.toExponential(2)}`).join(', ');
    console.log(`${file.split('/').pop()}: int8-edge across platforms vs server max|d|: ${row(probs.comparisons)}; vs fp32 max|d|: ${row(ref.outputs[0]!.comparisons)}`);
  });

  // The agent runs what the fleet deployed to it, not what parity asks for: the edge run is refused as such (not
  // judged numerically, which would read as a runtime disagreement), naming both artifacts and the fix.
  it('asking for fp32 while the agent runs int8-edge: edge is not ok, naming both digests, and not compared', async () => {
    const wav = readFileSync(ALSA_SPEECH[0]!).toString('base64');
    const report = await p.serverClient.parity.run.mutate({ model: MODEL, variant: 'fp32', wav, platforms: ['server', 'edge'], edgeUrl: p.edge.url });
    expect(report.variant!.sha256).toBe(fp32.sha256);
    expect(report.artifacts).toEqual({ identical: false, digests: { server: fp32.sha256, edge: int8.sha256 }, unreported: [] });
    const edge = report.platforms.find((r) => r.platform === 'edge')!;
    expect(edge).toMatchObject({ ok: false, answeredBy: 'edge', variant: 'int8-edge', artifactSha256: int8.sha256 });
    expect(edge.error).toEqual({
      code: 'VARIANT_MISMATCH',
      message:
        `the edge agent runs int8-edge (sha256 ${int8.sha256.slice(0, 12)}), not the requested fp32 (sha256 ${fp32.sha256.slice(0, 12)}); ` +
        `deploy that variant to the device (lepton deployments create ${MODEL} ${report.version} --device ID --variant fp32) or leave edge out of --platforms; its outputs were not compared`,
    });
    expect(report.outputs[0]!.comparisons).toEqual([]);
    expect(report.pass).toBe(false);
  });

  it('an unknown variant id is a typed error that lists the variants', async () => {
    await expect(p.serverClient.parity.run.mutate({ model: MODEL, variant: 'int4-nope', inputs: [encodeWireTensor('input', createTensor('float32', [1, 576]))], platforms: ['server'] })).rejects.toThrow(/no variant "int4-nope"; variants: .*fp32.*int8-edge/);
  });
});
