import { describe, expect, it } from 'vitest';
import { encodeWireTensor, type ModelRecord } from '@lepton/contracts';
import { buildParityReport, findVariant, namesVariant } from '../index';

const sha = (c: string) => c.repeat(64);
const wire = (v: number[]) => [encodeWireTensor('y', { dtype: 'float32', shape: [v.length], data: Float32Array.from(v) })];
const record = {
  id: 'm',
  version: '1',
  variants: [
    { id: 'fp32', precision: 'fp32', target: 'any', sha256: sha('a'), size: 10 },
    { id: 'int8-edge', precision: 'int8', target: 'edge', sha256: sha('b'), size: 4 },
    { id: 'fp16-web', precision: 'fp16', target: 'web', sha256: sha('c'), size: 5 },
  ],
} as unknown as ModelRecord;
const int8 = { id: 'int8-edge', precision: 'int8' as const, target: 'edge' as const, sha256: sha('b') };

describe('findVariant', () => {
  it('resolves an id, or precision/target as variants.choose does', () => {
    expect(findVariant(record, { variant: 'fp16-web' }).sha256).toBe(sha('c'));
    expect(findVariant(record, { target: 'edge' }).id).toBe('int8-edge');
    expect(findVariant(record, { precision: 'int8', target: 'edge' }).id).toBe('int8-edge');
    // As variants.choose: a precision alone means that precision registered for any target.
    expect(() => findVariant(record, { precision: 'int8' })).toThrow(/no int8 variant for target any; variants: fp32\/any, int8\/edge, fp16\/web/);
    expect(findVariant(record).id).toBe('fp32');
    expect(namesVariant({})).toBe(false);
    expect(namesVariant({ precision: 'int8' })).toBe(true);
  });

  it('names the unknown id and the ids there are', () => {
    expect(() => findVariant(record, { variant: 'int4-x' })).toThrow(/no variant "int4-x"; variants: fp32, int8-edge, fp16-web/);
    expect(() => findVariant(record, { variant: 'int4-x' })).toThrow(expect.objectContaining({ code: 'ARTIFACT_NOT_FOUND' }));
  });
});

describe('buildParityReport with a variant', () => {
  const run = (platform: 'server' | 'edge' | 'browser', v: number[], artifactSha256?: string) => ({ platform, ok: true, outputs: wire(v), ...(artifactSha256 ? { artifactSha256 } : {}) });

  it("states the variant and judges with its precision's tolerance", () => {
    // 5e-3 apart: outside fp32's atol 1e-5 + rtol 1e-4, inside int8's 1e-2 + 5e-2.
    const runs = [run('server', [0.5, 0.25], sha('b')), run('browser', [0.505, 0.25], sha('b'))];
    const r = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, variantNamed: true, runs });
    expect(r.precision).toBe('int8');
    expect(r.variant).toEqual(int8);
    expect(r.tolerances).toEqual([{ dtype: 'float32', precision: 'int8', rtol: 5e-2, atol: 1e-2, rule: 'allclose' }]);
    expect(r.artifacts).toEqual({ identical: true, digests: { server: sha('b'), browser: sha('b') }, unreported: [] });
    expect(r.pass).toBe(true);
    const asFp32 = buildParityReport({ model: 'm', version: '1', precision: 'fp32', runs });
    expect(asFp32.outputs[0]!.comparisons[0]!.pass).toBe(false);
  });

  it('a platform on another artifact is not ok, says what it runs and what to do, and its outputs are not judged', () => {
    // `lepton parity ... --target edge` while the agent runs its deployed fp32: outputs far outside int8's tolerance.
    const edgeFp32 = { ...run('edge', [0.9, 0.1], sha('a')), variant: 'fp32', answeredBy: 'edge' };
    const r = buildParityReport({ model: 'silero-vad-v5', version: '5.0.0', precision: 'fp32', variant: int8, variantNamed: true, runs: [run('server', [0.5, 0.25], sha('b')), edgeFp32] });
    const edge = r.platforms.find((p) => p.platform === 'edge')!;
    expect(edge.ok).toBe(false);
    expect(edge.error).toEqual({
      code: 'VARIANT_MISMATCH',
      message:
        'the edge agent runs fp32 (sha256 aaaaaaaaaaaa), not the requested int8-edge (sha256 bbbbbbbbbbbb); deploy that variant to the device ' +
        '(lepton deployments create silero-vad-v5 5.0.0 --device ID --variant int8) or leave edge out of --platforms; its outputs were not compared',
    });
    // What it ran stays in the report; no numerical verdict is made on it.
    expect(edge).toMatchObject({ artifactSha256: sha('a'), variant: 'fp32', answeredBy: 'edge' });
    expect(r.artifacts).toEqual({ identical: false, digests: { server: sha('b'), edge: sha('a') }, unreported: [] });
    expect(r.outputs[0]!.comparisons).toEqual([]);
    expect(r.pass).toBe(false);
    // Any platform, not only edge; a reference on other bytes hands the reference role to one on the variant.
    const browserFirst = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, variantNamed: true, runs: [run('browser', [1], sha('c')), run('server', [1], sha('b'))] });
    expect(browserFirst.platforms[0]!.error!.message).toMatch(/^the browser runs an unlisted artifact \(sha256 cccccccccccc\), not the requested int8-edge .*; run browser on int8-edge or leave it out of --platforms/);
    expect(browserFirst.reference).toBe('server');
    // Runs on the variant's bytes, and runs that do not say, are left as they are.
    const same = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, variantNamed: true, runs: [run('server', [1], sha('b')), run('edge', [1])] });
    expect(same.platforms.map((p) => p.ok)).toEqual([true, true]);
  });

  it('fails when a platform ran other bytes, or (variant named) does not say which', () => {
    const other = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, runs: [run('server', [1], sha('b')), run('edge', [1], sha('a'))] });
    expect(other.artifacts).toMatchObject({ identical: false, digests: { edge: sha('a') } });
    expect(other.pass).toBe(false);
    const silent = [run('server', [1], sha('b')), run('edge', [1])];
    const named = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, variantNamed: true, runs: silent });
    expect(named.artifacts).toEqual({ identical: false, digests: { server: sha('b') }, unreported: ['edge'] });
    expect(named.pass).toBe(false);
    // The default (fp32, not named): an unreported artifact is listed, not failed.
    const dflt = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: { ...int8, sha256: sha('b') }, runs: silent });
    expect(dflt.artifacts.identical).toBe(true);
    expect(dflt.pass).toBe(true);
  });

  it("reports each platform's difference from the fp32 outputs without judging the run by it", () => {
    const runs = [run('server', [0.5, 0.3], sha('b')), run('browser', [0.5, 0.3], sha('b'))];
    const r = buildParityReport({ model: 'm', version: '1', precision: 'fp32', variant: int8, variantNamed: true, runs, fp32: { sha256: sha('a'), outputs: wire([0.5, 0.2]) } });
    expect(r.fp32Reference!.sha256).toBe(sha('a'));
    const [server, browser] = r.fp32Reference!.outputs[0]!.comparisons;
    expect(server).toMatchObject({ platform: 'server', pass: false, mismatches: 1 });
    expect(server!.maxAbs).toBeCloseTo(0.1, 6);
    expect(browser!.platform).toBe('browser');
    expect(r.pass).toBe(true);
  });
});
