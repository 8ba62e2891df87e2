import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { decodeWireTensor, encodeWireTensor, type ModelManifestInput, type WireTensor } from '@lepton/contracts';
import { buildParityReport, compareOutput, toleranceFor } from '@lepton/api';
import { startPlatforms, type Client, type Platforms } from './platforms';
import { oneNodeModel } from './test-models';

// Field cases from shared/cases/runtime.json ("the same model and input behave differently across
// onnxruntime-node, onnxruntime-web and an edge device"), each checked on the server, the edge agent and in a
// headless Chromium, all real: the tests build tiny ONNX models in code and register them.

const F16: ModelManifestInput = {
  id: 'fc-identity-f16',
  name: 'Identity float16',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'float16', shape: [1, 3, 8, 8], layout: 'NCHW' }],
  outputs: [{ name: 'y', dtype: 'float16', shape: [1, 3, 8, 8], layout: 'NCHW' }],
};
const DYNAMIC: ModelManifestInput = {
  id: 'fc-dynamic',
  name: 'Identity with a free dim',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'float32', shape: ['n'], maxShape: [64] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['n'] }],
};
const NCHW: ModelManifestInput = {
  id: 'fc-nchw',
  name: 'Relu on an NCHW image',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 4, 4], layout: 'NCHW' }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3, 4, 4], layout: 'NCHW' }],
};

let p: Platforms;
type Where = 'server' | 'edge' | 'browser';
const WHERE: Where[] = ['server', 'edge', 'browser'];

/** Run `infer` on one platform; errors come back as `{ code, message }` so every platform is checked alike. */
async function inferOn(where: Where, model: string, inputs: WireTensor[], format: 'base64' | 'array' = 'base64') {
  if (where === 'browser') {
    const run = await p.browser.run({ model, inputs });
    return run.ok ? { outputs: run.outputs ?? [], answeredBy: 'browser' } : { error: run.error! };
  }
  const c: Client = where === 'server' ? p.serverClient : p.edgeClient;
  try {
    const res = await c.infer.mutate({ model, inputs, format });
    return { outputs: res.outputs, answeredBy: res.answeredBy };
  } catch (e) {
    if (e instanceof TRPCClientError) return { error: (e.data as { lepton: { code: string; message: string } }).lepton };
    throw e;
  }
}

beforeAll(async () => {
  p = await startPlatforms([
    { manifest: F16, bytes: oneNodeModel('Identity', 10, [1, 3, 8, 8]) },
    { manifest: DYNAMIC, bytes: oneNodeModel('Identity', 1, ['n']) },
    { manifest: NCHW, bytes: oneNodeModel('Relu', 1, [1, 3, 4, 4]) },
  ]);
}, 240_000);
afterAll(() => p?.close());

describe('float16-tensors-in-js: float16 travels as Uint16Array bits', () => {
  // 1.0, -0, a NaN with a payload, the largest finite half, the smallest subnormal, then a ramp.
  const bits = new Uint16Array(192).map((_, i) => [0x3c00, 0x8000, 0x7e01, 0x7bff, 0x0001][i] ?? 0x3c00 + i);
  const x = encodeWireTensor('x', { dtype: 'float16', shape: [1, 3, 8, 8], data: bits });

  it.each(WHERE)('the same bits come back from Identity on %s', async (where) => {
    const res = await inferOn(where, 'fc-identity-f16', [x]);
    expect(res).not.toHaveProperty('error');
    const y = decodeWireTensor(res.outputs!.find((o) => o.name === 'y')!);
    expect(y.dtype).toBe('float16');
    expect(Array.from(y.data as Uint16Array)).toEqual(Array.from(bits));
    expect(res.answeredBy).toBe(where);
  });

  it('0x3C00 reads as 1.0 wherever values are shown (array form)', async () => {
    const res = await inferOn('server', 'fc-identity-f16', [x], 'array');
    // 65500 is the shortest decimal that reads back as 0x7BFF (65504): the array form prints shortest round-trips.
    expect((res.outputs![0]!.data as unknown[]).slice(0, 4)).toEqual([1, '-0', 'NaN', 65500]);
  });
});

describe('int64-scalar-input: sr as a number, a decimal string or a bigint', () => {
  const zeros = (name: string, shape: number[]) => encodeWireTensor(name, { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
  const forms: [string, (number | string | bigint)[]][] = [['number', [16000]], ['string', ['16000']], ['bigint', [16000n]]];

  it('decodes all three forms to the same BigInt64Array', () => {
    for (const [, data] of forms) {
      const t = decodeWireTensor({ name: 'sr', dtype: 'int64', shape: [], data });
      expect(t.data).toEqual(new BigInt64Array([16000n]));
    }
  });

  it.each(WHERE)('Silero VAD answers identically for each form on %s', async (where) => {
    const outputs: string[] = [];
    for (const [, data] of forms) {
      // A bigint cannot travel in JSON: the client turns it into the wire's decimal-string form first.
      const sr = { name: 'sr', dtype: 'int64' as const, shape: [], data: data.map((v) => (typeof v === 'bigint' ? v.toString() : v)) };
      const res = await inferOn(where, 'silero-vad-v5', [zeros('input', [1, 576]), zeros('state', [2, 1, 128]), sr]);
      expect(res).not.toHaveProperty('error');
      outputs.push(String(res.outputs!.find((o) => o.name === 'output')!.data));
    }
    expect(new Set(outputs).size).toBe(1);
  });
});

describe('near-tie-argmax: near ties are flagged, not reported as disagreements', () => {
  const scores = (v: number[]) => ({ dtype: 'float32' as const, shape: [1, v.length], data: Float32Array.from(v) });
  const tol = toleranceFor('float32', 'fp32');

  it('flags a top-2 margin under the tolerance as a near tie and passes', () => {
    const c = compareOutput('browser', scores([0.3, 0.5000001, 0.5]), scores([0.3, 0.5, 0.5000001]), tol);
    expect(c.argmax).toEqual({ rows: 1, classes: 3, agree: 0, nearTies: 1, hardDisagreements: [] });
    expect(c.pass).toBe(true);
  });

  it('fails a real disagreement and names the row', () => {
    const c = compareOutput('browser', scores([0.1, 0.9, 0.2]), scores([0.9, 0.1, 0.2]), tol);
    expect(c.argmax!.hardDisagreements).toEqual([0]);
    expect(c.pass).toBe(false);
    expect(c.reason).toMatch(/top-1 differs in rows 0/);
  });

  it('shows the tie in a report built from platform runs', () => {
    const run = (platform: 'server' | 'browser', v: number[]) => ({ platform, ok: true, outputs: [encodeWireTensor('logits', scores(v))] });
    const report = buildParityReport({ model: 'm', version: '1', precision: 'fp32', runs: [run('server', [0.5, 0.5000001]), run('browser', [0.5000001, 0.5])] });
    expect(report.outputs[0]!.comparisons[0]!.argmax!.nearTies).toBe(1);
    expect(report.pass).toBe(true);
  });
});

describe('graph-optimization-level: session options are explicit and recorded', () => {
  it('every platform of a parity run reports the same explicit options, from the manifest', async () => {
    const inputs = [encodeWireTensor('x', { dtype: 'float32', shape: [5], data: Float32Array.from([1, -2, 3, -4, 5]) })];
    const report = await p.serverClient.parity.run.mutate({ model: 'fc-dynamic', inputs, platforms: ['server', 'edge', 'browser'], edgeUrl: p.edge.url });
    expect(report.platforms.map((r) => [r.platform, r.ok])).toEqual([['server', true], ['edge', true], ['browser', true]]);
    for (const r of report.platforms) {
      expect(r.sessionOptions).toEqual({ graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    }
    const record = await p.serverClient.models.get.query({ id: 'fc-dynamic' });
    expect(record.manifest.sessionOptions.graphOptimizationLevel).toBe('all');
    expect(report.pass).toBe(true);
  });
});

describe('dynamic-shape-memory: inputs beyond maxShape get a typed error naming the limit', () => {
  const x = (n: number) => encodeWireTensor('x', { dtype: 'float32', shape: [n], data: new Float32Array(n) });

  it.each(WHERE)('n = 64 runs and n = 65 is TENSOR_TOO_LARGE on %s', async (where) => {
    expect(await inferOn(where, 'fc-dynamic', [x(64)])).not.toHaveProperty('error');
    const res = await inferOn(where, 'fc-dynamic', [x(65)]);
    expect(res.error?.code).toBe('TENSOR_TOO_LARGE');
    expect(res.error?.message).toContain("input 'x' dim 0 ('n') is 65; the limit is 64");
  });
});

describe('nhwc-into-nchw: a mismatching layout names expected and received shapes', () => {
  const nhwc = encodeWireTensor('x', { dtype: 'float32', shape: [1, 4, 4, 3], data: new Float32Array(48) });

  it.each(WHERE)('NHWC [1, 4, 4, 3] into NCHW [1, 3, 4, 4] is TENSOR_SHAPE_MISMATCH on %s', async (where) => {
    const res = await inferOn(where, 'fc-nchw', [nhwc]);
    expect(res.error?.code).toBe('TENSOR_SHAPE_MISMATCH');
    expect(res.error?.message).toContain("input 'x' has shape [1, 4, 4, 3]; expected [1, 3, 4, 4]");
  });

  it('declares the layout in the manifest every platform reads', async () => {
    const record = await p.edgeClient.models.get.query({ id: 'fc-nchw' });
    expect(record.manifest.inputs[0]).toMatchObject({ layout: 'NCHW', shape: [1, 3, 4, 4] });
  });
});

describe('the parity page (/#parity) in Chromium', () => {
  it('runs a model in the page and on the server and shows the report', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${p.server.url}/#parity`);
      await page.waitForSelector('#parity-model option[value="fc-dynamic@1"]', { state: 'attached' });
      await page.selectOption('#parity-model', 'fc-dynamic@1');
      const inputs = [encodeWireTensor('x', { dtype: 'float32', shape: [3], data: Float32Array.of(0.1, -2, 3e-8) })];
      await page.setInputFiles('#parity-inputs', { name: 'inputs.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(inputs)) });
      await page.waitForSelector('#parity[data-state="done"], #parity[data-state="error"]', { timeout: 60_000 });
      const report = JSON.parse((await page.textContent('#parity-json')) ?? '{}') as { pass: boolean; platforms: { platform: string; ok: boolean }[]; preprocessing: { identical: boolean } };
      expect(report.platforms.map((x) => [x.platform, x.ok])).toEqual([['server', true], ['browser', true]]);
      expect(report.preprocessing.identical).toBe(true);
      expect(report.pass).toBe(true);
      expect(await page.textContent('#parity-report')).toContain('preprocessing identical');
    } finally {
      await browser.close();
    }
  });
});
