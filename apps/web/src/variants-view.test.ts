import { describe, expect, it } from 'vitest';
import type { VariantJob, VariantReport } from '@lepton/contracts';
import { formatBytes, reportSummary, statusText, variantText } from './variants-view';

const report: VariantReport = {
  pass: 'int8-weight',
  passSummary: {},
  data: { kind: 'audio', description: '404 chunks' },
  samples: 404,
  size: { bytes: 714897, referenceBytes: 2327524, ratio: 0.30714914217855543 },
  outputs: [{ name: 'output', decision: { threshold: 0.5 }, agreement: 0.995049504950495, decisions: 404, maxAbsDiff: 0.15694421529769897, sqnrDb: 32.99370726023936 }],
  latency: { runs: 404, meanMs: 0.177, referenceMeanMs: 0.134, ratio: 1.3204 },
};

const job = (over: Partial<VariantJob>): VariantJob => ({
  id: 'vj_1',
  model: 'm',
  version: '1',
  target: 'edge',
  pass: 'int8-auto',
  status: 'queued',
  progress: 0,
  stage: null,
  error: null,
  report: null,
  variantId: null,
  precision: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  ...over,
});

describe('variants view', () => {
  it('describes a variant with its size and sha256 prefix', () => {
    expect(formatBytes(714897)).toBe('698.1 KiB');
    expect(variantText({ id: 'int8-edge', precision: 'int8', target: 'edge', size: 714897, sha256: '790b9fa478d481c646be6229aa6fd30df5fb919e6f760e60d2e1c42a1a93d506', opset: 16 })).toBe(
      'int8-edge (int8, edge, 698.1 KiB, 790b9fa4)',
    );
  });

  it('summarises a report in one line', () => {
    expect(reportSummary(report)).toBe('size 0.31x · output: agreement 99.5% of 404, max |diff| 0.157, SQNR 33.0 dB · latency 1.32x');
    expect(reportSummary({ ...report, outputs: [{ ...report.outputs[0]!, sqnrDb: null }], latency: null })).toBe(
      'size 0.31x · output: agreement 99.5% of 404, max |diff| 0.157, identical',
    );
  });

  it('says where a job is', () => {
    expect(statusText(job({}))).toBe('queued');
    expect(statusText(job({ status: 'running', progress: 0.456, stage: 'evaluating' }))).toBe('running 46% (evaluating)');
    expect(statusText(job({ status: 'failed', error: { code: 'MODEL_LOAD_FAILED', message: 'not ONNX' } }))).toBe('failed: MODEL_LOAD_FAILED: not ONNX');
  });
});
