import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { float32ToFloat16Bits, type Tensor } from '@lepton/tensor-core';
import { encodeWireTensor } from '@lepton/contracts';
import { createPredictor, SILERO_VAD_V5_MANIFEST, type OrtModule } from '@lepton/runtime';
import { buildParityReport, compareOutput, feedsCanonicalBytes, manifestFromModel, recordFeeds, toleranceFor } from '../index';

const f32 = (v: number[], shape = [v.length]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(v) });

describe('toleranceFor', () => {
  it('states one tolerance per dtype and precision, exact for non-floats', () => {
    expect(toleranceFor('float32', 'fp32')).toEqual({ dtype: 'float32', precision: 'fp32', rtol: 1e-4, atol: 1e-5, rule: 'allclose' });
    expect(toleranceFor('float16', 'fp32')).toMatchObject({ rtol: 2e-3, atol: 1e-3 });
    expect(toleranceFor('float32', 'int8')).toMatchObject({ rtol: 5e-2, atol: 1e-2 });
    expect(toleranceFor('int64', 'fp16')).toMatchObject({ rule: 'exact', rtol: 0, atol: 0 });
  });
});

describe('compareOutput', () => {
  const tol = toleranceFor('float32', 'fp32');

  it('measures max abs/rel, ulps, cosine and SQNR, and passes within the tolerance', () => {
    const c = compareOutput('browser', f32([1, 2.000001, -3]), f32([1, 2, -3]), tol);
    expect(c.pass).toBe(true);
    expect(c.maxAbs).toBeCloseTo(Math.fround(2.000001) - 2, 12);
    // float32 spacing at 2 is 2^-22: 1e-6 is 4 ulps.
    expect(c.maxUlp).toBe(4);
    expect(c.cosine).toBeCloseTo(1, 12);
    expect(c.sqnrDb).toBeGreaterThan(100);
    // The last dim is read as classes: one row of 3 scores, same top-1.
    expect(c.argmax).toEqual({ rows: 1, classes: 3, agree: 1, nearTies: 0, hardDisagreements: [] });
  });

  it('fails outside the tolerance and says how many values', () => {
    const c = compareOutput('edge', f32([1, 2.01]), f32([1, 2]), tol);
    expect(c).toMatchObject({ pass: false, mismatches: 1, reason: '1 of 2 values outside rtol 0.0001 / atol 0.00001' });
  });

  it('compares float16 outputs in float16 ulps and integers exactly', () => {
    const h = (v: number[]): Tensor => ({ dtype: 'float16', shape: [v.length], data: Uint16Array.from(v, float32ToFloat16Bits) });
    expect(compareOutput('edge', h([1, 1.0009765625]), h([1, 1]), toleranceFor('float16', 'fp32'))).toMatchObject({ pass: true, maxUlp: 1 });
    const i = (v: bigint[]): Tensor => ({ dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v) });
    expect(compareOutput('edge', i([2n ** 60n + 1n]), i([2n ** 60n]), toleranceFor('int64', 'fp32'))).toMatchObject({ pass: false, mismatches: 1 });
  });

  it('a masked logit (-Infinity) does not turn a real top-1 disagreement into a near tie', () => {
    // Row 0: the platforms pick different classes by a wide margin; row 1 holds a masked class in both.
    const got = f32([0.9, 0.1, 0.2, 0.5, 0.4, -Infinity], [2, 3]);
    const ref = f32([0.1, 0.9, 0.2, 0.5, 0.4, -Infinity], [2, 3]);
    const c = compareOutput('browser', got, ref, tol);
    expect(c.argmax).toMatchObject({ rows: 2, agree: 1, nearTies: 0 });
    expect(c.argmax!.hardDisagreements).toHaveLength(1);
  });

  it('names shape and dtype mismatches instead of comparing', () => {
    expect(compareOutput('local', f32([1, 2], [1, 2]), f32([1, 2], [2, 1]), tol).reason).toBe('shape [1, 2]; reference has [2, 1]');
    expect(compareOutput('local', undefined, f32([1]), tol)).toMatchObject({ pass: false, reason: 'output missing' });
  });
});

describe('buildParityReport', () => {
  it('flags different preprocessed feeds and failed platforms', () => {
    const out = [encodeWireTensor('y', f32([1, 2]))];
    const report = buildParityReport({
      model: 'm',
      version: '1',
      precision: 'fp32',
      runs: [
        { platform: 'server', ok: true, outputs: out, feedsSha256: 'aa' },
        { platform: 'browser', ok: true, outputs: out, feedsSha256: 'bb' },
        { platform: 'edge', ok: false, error: { code: 'UPSTREAM_UNAVAILABLE', message: 'down' } },
      ],
    });
    expect(report.preprocessing).toEqual({ identical: false, digests: { server: 'aa', browser: 'bb' }, unreported: [] });
    expect(report.outputs[0]!.comparisons.map((c) => c.pass)).toEqual([true]);
    expect(report.tolerances).toEqual([toleranceFor('float32', 'fp32')]);
    expect(report.pass).toBe(false);
  });
});

describe('feedsCanonicalBytes and recordFeeds', () => {
  it('lays out name, dtype, dims and bytes per feed in name order', () => {
    const bytes = feedsCanonicalBytes([{ b: f32([1]), a: { dtype: 'bool', shape: [], data: Uint8Array.of(1) } }]);
    expect(Array.from(bytes)).toEqual([...Buffer.from('a\0bool\0\0'), 1, ...Buffer.from('b\0float32\x001\0'), 0, 0, 0x80, 0x3f]);
  });

  it('records copies of the feeds a predictor is given (Silero VAD, onnxruntime-node)', async () => {
    const model = new Uint8Array(readFileSync(new URL('../../../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx', import.meta.url)));
    const predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model, ort: ort as unknown as OrtModule });
    const { predictor: recorded, calls } = recordFeeds(predictor);
    const frame = new Float32Array(576).fill(0.25);
    const stream = recorded.openStream();
    await stream.step({ input: { dtype: 'float32', shape: [1, 576], data: frame } });
    frame.fill(0);
    expect(calls).toHaveLength(1);
    expect((calls[0]!['input']!.data as Float32Array)[0]).toBe(0.25);
    await predictor.release();
  });
});

describe('manifestFromModel', () => {
  it('derives inputs and outputs of Silero VAD v5 with their dtypes and shapes', () => {
    const model = new Uint8Array(readFileSync(new URL('../../../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx', import.meta.url)));
    const m = manifestFromModel(model, { id: 'vad', version: '1' });
    expect(m.inputs.map((i) => [i.name, i.dtype, i.shape.length])).toEqual([
      ['input', 'float32', 2],
      ['state', 'float32', 3],
      ['sr', 'int64', 0],
    ]);
    expect(m.outputs.map((o) => o.name)).toEqual(['output', 'stateN']);
    expect(m.task).toBe('generic');
  });
});
