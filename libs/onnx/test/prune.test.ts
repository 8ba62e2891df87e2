import { describe, expect, it } from 'vitest';
import { decodeModel, pruneInPlace, pruneWeights, readFloat32 } from '../src';
import { convModel } from './support/build';
import { maxAbs, run, tensor } from './support/ort';
import { randomFloats } from './support/build';

describe('prune', () => {
  it('zeroes exactly round(s * n) smallest magnitudes, ties broken by position', () => {
    const x = Float32Array.of(0.5, -0.1, 0.1, 3, -2, 0.1, NaN, 0);
    const t = pruneInPlace(x, 0.5);
    expect(Array.from(x)).toEqual([0.5, 0, 0, 3, -2, 0, NaN, 0]);
    expect(t).toBeCloseTo(0.1, 6);
  });

  it('reports the achieved sparsity per tensor and leaves the bias dense', async () => {
    const m = convModel(3, 8, 3, 6);
    const r = pruneWeights(m, { sparsity: 0.6 });
    expect(r.report.tensors.map((t) => [t.name, t.elements, t.sparsity])).toEqual([['W', 216, Math.round(0.6 * 216) / 216]]);
    const out = decodeModel(r.model);
    const w = readFloat32(out.graph!.initializer.find((t) => t.name === 'W')!);
    expect(w.filter((v) => v === 0).length).toBe(Math.round(0.6 * 216));
    expect(readFloat32(out.graph!.initializer.find((t) => t.name === 'B')!).every((v) => v !== 0)).toBe(true);
    const x = { X: tensor(randomFloats(108, 2), [1, 3, 6, 6]) };
    const y = (await run(r.model, x)).Y!;
    expect(maxAbs(y)).toBeGreaterThan(0);
  });

  it('rejects a sparsity outside [0, 1), naming it', () => {
    expect(() => pruneWeights(convModel(3, 8, 3, 6), { sparsity: 1 })).toThrow(/sparsity is 1; expected a number in \[0, 1\)/);
  });
});
