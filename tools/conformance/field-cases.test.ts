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

const I64: ModelManifestInput = {
  id: 'fc-identity-i64',
  name: 'Identity int64',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'int64', shape: [4] }],
  outputs: [{ name: 'y', dtype: 'int64', shape: [4] }],
};
const NCT: ModelManifestInput = {
  id: 'fc-nct',
  name: 'Relu on channels-first features',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 8], layout: 'NCT' }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 8], layout: 'NCT' }],
};
const NCHW_FREE: ModelManifestInput = {
  id: 'fc-nchw-free',
  name: 'Relu on an NCHW image of any size',
  version: '1',
  task: 'generic',
  inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 3, 'h', 'w'], maxShape: [4, 3, 64, 64], layout: 'NCHW' }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 3, 'h', 'w'], layout: 'NCHW' }],
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
    { manifest: I64, bytes: oneNodeModel('Identity', 7, [4]) },
    { manifest: NCT, bytes: oneNodeModel('Relu', 1, [1, 2, 8]) },
    { manifest: NCHW_FREE, bytes: oneNodeModel('Relu', 1, ['n', 3, 'h', 'w']) },
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

  it.each(['server', 'edge'] as const)('0x3C00 reads as 1.0 wherever values are shown (array form, %s)', async (where) => {
    const res = await inferOn(where, 'fc-identity-f16', [x], 'array');
    // 65500 is the shortest decimal that reads back as 0x7BFF (65504): the array form prints shortest round-trips.
    expect((res.outputs![0]!.data as unknown[]).slice(0, 5)).toEqual([1, '-0', 'NaN', 65500, 6e-8]);
    // The values read back to the same bits.
    expect(Array.from(decodeWireTensor(res.outputs![0]!).data as Uint16Array).slice(0, 5)).toEqual([0x3c00, 0x8000, 0x7e00, 0x7bff, 0x0001]);
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

describe('int64-beyond-2^53 on every platform (tensor-core case): an int64 Identity returns the values exactly', () => {
  const values = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '16000'];
  const x = (format: 'base64' | 'array') => encodeWireTensor('x', { dtype: 'int64', shape: [4], data: BigInt64Array.from(values.map(BigInt)) }, format);

  it.each(WHERE)('base64 and decimal strings in, the same values out, on %s', async (where) => {
    for (const format of ['base64', 'array'] as const) {
      const res = await inferOn(where, 'fc-identity-i64', [x(format)], format);
      expect(res).not.toHaveProperty('error');
      const y = res.outputs!.find((o) => o.name === 'y')!;
      expect(Array.from(decodeWireTensor(y).data as BigInt64Array, String), `${where} ${format}`).toEqual(values);
      if (where !== 'browser' && format === 'array') expect(y.data).toEqual(values);
    }
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

  // Neighbours at other ranks and with free dims: channels-last features [1, T, C] into an NCT model, an HWC image
  // without its batch dim, and NHWC into an NCHW model whose H and W are free (only C = 3 can catch it).
  const cases: [string, WireTensor, string][] = [
    ['fc-nct', encodeWireTensor('x', { dtype: 'float32', shape: [1, 8, 2], data: new Float32Array(16) }), "input 'x' has shape [1, 8, 2]; expected [1, 2, 8]"],
    ['fc-nchw', encodeWireTensor('x', { dtype: 'float32', shape: [4, 4, 3], data: new Float32Array(48) }), "input 'x' has shape [4, 4, 3]; expected [1, 3, 4, 4] (rank 4, got 3)"],
    ['fc-nchw-free', encodeWireTensor('x', { dtype: 'float32', shape: [1, 8, 8, 3], data: new Float32Array(192) }), "input 'x' has shape [1, 8, 8, 3]; expected [n, 3, h, w] (dim 1 must be 3)"],
  ];

  it.each(WHERE)('other ranks and free dims are TENSOR_SHAPE_MISMATCH naming both shapes on %s', async (where) => {
    for (const [model, tensor, message] of cases) {
      const res = await inferOn(where, model, [tensor]);
      expect(res.error?.code, `${model} on ${where}`).toBe('TENSOR_SHAPE_MISMATCH');
      expect(res.error?.message).toContain(message);
    }
    // The channels-first spelling of the same data runs.
    const ok = await inferOn(where, 'fc-nchw-free', [encodeWireTensor('x', { dtype: 'float32', shape: [1, 3, 8, 8], data: new Float32Array(192) })]);
    expect(ok).not.toHaveProperty('error');
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
