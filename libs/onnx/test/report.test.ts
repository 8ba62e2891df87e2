import { describe, expect, it } from 'vitest';
import { AccuracyAccumulator, AccuracyReportSchema, formatReportTable } from '../src';

describe('accuracy report', () => {
  it('computes agreement, max abs diff, SQNR, accuracy and cross-entropy from given outputs', () => {
    const acc = new AccuracyAccumulator({
      outputs: [
        { name: 'logits', decision: 'argmax', classes: 3 },
        { name: 'prob', decision: { threshold: 0.5 } },
      ],
      labelOutput: 'logits',
    });
    acc.add({ logits: Float32Array.of(2, 0, 0), prob: Float32Array.of(0.9) }, { logits: Float32Array.of(2, 0, 0), prob: Float32Array.of(0.8) }, 0);
    acc.add({ logits: Float32Array.of(0, 1, 0), prob: Float32Array.of(0.4) }, { logits: Float32Array.of(0, 0, 1), prob: Float32Array.of(0.6) }, 1);
    const r = AccuracyReportSchema.parse(acc.finish('v', { bytes: 50, referenceBytes: 200 }));
    expect(r.size.ratio).toBe(0.25);
    expect(r.samples).toBe(2);
    expect(r.outputs[0]).toMatchObject({ agreement: 0.5, decisions: 2, maxAbsDiff: 1 });
    // signal 4 + 1 = 5, noise 1 + 1 = 2
    expect(r.outputs[0]!.sqnrDb).toBeCloseTo(10 * Math.log10(5 / 2), 10);
    expect(r.outputs[1]).toMatchObject({ agreement: 0.5, decisions: 2 });
    expect(r.outputs[1]!.maxAbsDiff).toBeCloseTo(0.2, 6);
    expect(r.labelled!.referenceAccuracy).toBe(1);
    expect(r.labelled!.accuracy).toBe(0.5);
    const ce = (l: number[], k: number) => Math.log(l.reduce((a, v) => a + Math.exp(v), 0)) - l[k]!;
    expect(r.labelled!.referenceMeanCrossEntropy).toBeCloseTo((ce([2, 0, 0], 0) + ce([0, 1, 0], 1)) / 2, 6);
    expect(r.labelled!.meanCrossEntropy).toBeCloseTo((ce([2, 0, 0], 0) + ce([0, 0, 1], 1)) / 2, 6);
    const table = formatReportTable([r]);
    expect(table).toContain('| v ');
    expect(table).toContain('50.00 %');
  });

  it('reports identical outputs as infinite SQNR (null in JSON)', () => {
    const acc = new AccuracyAccumulator({ outputs: [{ name: 'y', decision: { threshold: 0 } }] });
    acc.add({ y: Float32Array.of(1, -1) }, { y: Float32Array.of(1, -1) });
    expect(acc.finish('same', { bytes: 1, referenceBytes: 1 }).outputs[0]!.sqnrDb).toBeNull();
  });

  it('rejects argmax outputs without a class count and mismatched lengths, naming the output', () => {
    expect(() => new AccuracyAccumulator({ outputs: [{ name: 'z', decision: 'argmax' }] })).toThrow(/output "z" uses argmax/);
    const acc = new AccuracyAccumulator({ outputs: [{ name: 'y', decision: { threshold: 0 } }] });
    expect(() => acc.add({ y: new Float32Array(2) }, { y: new Float32Array(3) })).toThrow(/output "y" has 2 values in the reference and 3/);
  });
});
