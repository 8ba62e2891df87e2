import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import type { ModelManifest } from '@lepton/contracts';
import * as ortNode from 'onnxruntime-node';
import { SILERO_VAD_V5_MANIFEST, createPredictor, toOrtSessionOptions, type Feeds, type Predictor } from '../src';
import { ort, sileroBytes } from './support/model';

const frame = (fill = 0): Feeds['x'] => ({ dtype: 'float32', shape: [1, 576], data: new Float32Array(576).fill(fill) });
const zeroState = (): Feeds['x'] => ({ dtype: 'float32', shape: [2, 1, 128], data: new Float32Array(256) });

async function errorOf(p: Promise<unknown>): Promise<LeptonError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LeptonError);
    return e as LeptonError;
  }
  throw new Error('expected a LeptonError');
}

/** A 440 Hz tone with a little noise: deterministic input that is not silence. */
function tone(n: number, offset: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * (i + offset)) / 16000));
}

describe('predictor on Silero VAD v5 (onnxruntime-node 1.30)', () => {
  let predictor: Predictor;
  beforeAll(async () => {
    predictor = await createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: sileroBytes(), ort });
  });
  afterAll(() => predictor.release());

  it('the manifest matches the model', async () => {
    const session = await ortNode.InferenceSession.create(sileroBytes());
    expect(session.inputNames).toEqual(SILERO_VAD_V5_MANIFEST.inputs.map((s) => s.name));
    expect(session.outputNames).toEqual(SILERO_VAD_V5_MANIFEST.outputs.map((s) => s.name));
    await session.release();
  });

  it('maps every session option explicitly', () => {
    expect(toOrtSessionOptions(SILERO_VAD_V5_MANIFEST.sessionOptions)).toEqual({
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  });

  it('run adds the sr constant and returns Lepton tensors equal to a direct onnxruntime call', async () => {
    const input = tone(576, 0);
    const out = await predictor.run({ input: { dtype: 'float32', shape: [1, 576], data: input }, state: zeroState() });
    expect(out['output']!.dtype).toBe('float32');
    expect(out['output']!.shape).toEqual([1, 1]);
    expect(out['stateN']!.shape).toEqual([2, 1, 128]);

    const session = await ortNode.InferenceSession.create(sileroBytes(), toOrtSessionOptions(SILERO_VAD_V5_MANIFEST.sessionOptions));
    const direct = await session.run({
      input: new ortNode.Tensor('float32', input, [1, 576]),
      state: new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    expect(out['output']!.data).toEqual(direct['output']!.data);
    expect(out['stateN']!.data).toEqual(direct['stateN']!.data);
    await session.release();
  });

  it('a stream carries state: step n equals run with the previous stateN', async () => {
    const stream = predictor.openStream();
    let state = zeroState();
    for (let k = 0; k < 4; k++) {
      const input: Feeds['x'] = { dtype: 'float32', shape: [1, 576], data: tone(576, k * 512) };
      const viaRun = await predictor.run({ input, state });
      const viaStream = await stream.step({ input });
      expect(viaStream['output']!.data).toEqual(viaRun['output']!.data);
      state = viaRun['stateN']!;
    }
    // reset() starts from zeros again; unawaited steps still run in order.
    stream.reset();
    const [a, b] = await Promise.all([stream.step({ input: frame(0.1) }), stream.step({ input: frame(0.1) })]);
    const first = await predictor.run({ input: frame(0.1), state: zeroState() });
    const second = await predictor.run({ input: frame(0.1), state: first['stateN']! });
    expect(a['output']!.data).toEqual(first['output']!.data);
    expect(b['output']!.data).toEqual(second['output']!.data);
  });

  it('rejects bad feeds with typed errors naming what was expected', async () => {
    let e = await errorOf(predictor.run({ input: { dtype: 'float64', shape: [1, 576], data: new Float64Array(576) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_DTYPE_MISMATCH');
    expect(e.message).toBe("input 'input' has dtype float64; expected float32");

    e = await errorOf(predictor.run({ input: { dtype: 'float32', shape: [1, 512], data: new Float32Array(512) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_SHAPE_MISMATCH');
    expect(e.message).toContain('has shape [1, 512]; expected [1, 576]');

    e = await errorOf(predictor.run({ input: { dtype: 'float32', shape: [576], data: new Float32Array(576) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_SHAPE_MISMATCH');

    e = await errorOf(predictor.run({ input: frame(), state: zeroState(), audio: frame() }));
    expect(e.code).toBe('INPUT_UNKNOWN');
    expect(e.message).toContain("'audio' is not an input of model silero-vad-v5@5.0.0; expected 'input', 'state'");

    e = await errorOf(predictor.run({ input: frame() }));
    expect(e.code).toBe('INPUT_MISSING');
    expect(e.message).toContain("needs input 'state'");

    e = await errorOf(predictor.run({ input: { dtype: 'float32', shape: [1, 576], data: new Float32Array(5) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_SIZE_MISMATCH');

    e = await errorOf(predictor.openStream().step({ input: frame(), state: zeroState() }));
    expect(e.code).toBe('INPUT_UNKNOWN');
    expect(e.message).toContain('stream state');
  });

  it('a fed constant must carry the manifest value: sr 8000 is VALIDATION_FAILED, not INFERENCE_FAILED', async () => {
    const sr = (v: bigint): Feeds['x'] => ({ dtype: 'int64', shape: [], data: BigInt64Array.from([v]) });
    // Without the check onnxruntime fails inside Silero's If node and the server answered 500 INFERENCE_FAILED.
    for (const v of [8000n, -1n, 0n]) {
      const e = await errorOf(predictor.run({ input: frame(), state: zeroState(), sr: sr(v) }));
      expect(e.code).toBe('VALIDATION_FAILED');
      expect(e.message).toBe(`input 'sr' of model silero-vad-v5@5.0.0 is a constant [16000]; got [${v}] (leave it out, or send the constant)`);
    }
    const e = await errorOf(predictor.openStream().step({ input: frame(), sr: sr(8000n) }));
    expect(e.code).toBe('VALIDATION_FAILED');
    // The constant's own value is accepted and gives the same answer as leaving it out.
    const fed = await predictor.run({ input: frame(0.1), state: zeroState(), sr: sr(16000n) });
    const omitted = await predictor.run({ input: frame(0.1), state: zeroState() });
    expect(Array.from(fed['output']!.data as Float32Array)).toEqual(Array.from(omitted['output']!.data as Float32Array));
  });
});

describe('symbolic dims, loading and runtime failures', () => {
  // The same model with its real symbolic dims declared, bounded by maxShape.
  const symbolic: ModelManifest = {
    ...SILERO_VAD_V5_MANIFEST,
    inputs: [
      { name: 'input', dtype: 'float32', shape: ['batch', 'samples'], maxShape: [4, 4096], layout: 'NC' },
      { name: 'state', dtype: 'float32', shape: [2, 'batch', 128], maxShape: [2, 4, 128], layout: 'any' },
      { name: 'sr', dtype: 'int64', shape: [], layout: 'scalar' },
    ],
  };

  it('checks symbolic dims against maxShape and binds them across inputs', async () => {
    const p = await createPredictor({ manifest: symbolic, model: sileroBytes(), ort });
    let e = await errorOf(p.run({ input: { dtype: 'float32', shape: [1, 8192], data: new Float32Array(8192) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_TOO_LARGE');
    expect(e.message).toBe("input 'input' dim 1 ('samples') is 8192; the limit is 4096 (maxShape [4, 4096])");
    e = await errorOf(p.run({ input: { dtype: 'float32', shape: [2, 576], data: new Float32Array(1152) }, state: zeroState() }));
    expect(e.code).toBe('TENSOR_SHAPE_MISMATCH');
    expect(e.message).toContain("dim 'batch' is 2 in another input");
    // A stream sizes its zero state from the batch its first feed binds.
    const out = await p.openStream().step({ input: { dtype: 'float32', shape: [2, 576], data: new Float32Array(1152) } });
    expect(out['output']!.shape).toEqual([2, 1]);
    expect(out['stateN']!.shape).toEqual([2, 2, 128]);
    await p.release();
  });

  it('MODEL_LOAD_FAILED names the model; MANIFEST_INVALID names a missing input', async () => {
    let e = await errorOf(createPredictor({ manifest: SILERO_VAD_V5_MANIFEST, model: new Uint8Array([1, 2, 3]), ort }));
    expect(e.code).toBe('MODEL_LOAD_FAILED');
    expect(e.message).toContain('model silero-vad-v5@5.0.0 (3 bytes) failed to load');
    const wrong = { ...SILERO_VAD_V5_MANIFEST, inputs: [...SILERO_VAD_V5_MANIFEST.inputs, { ...SILERO_VAD_V5_MANIFEST.inputs[0]!, name: 'audio' }] };
    e = await errorOf(createPredictor({ manifest: wrong, model: sileroBytes(), ort }));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toContain("declares input 'audio'");
    e = await errorOf(createPredictor({ manifest: { ...SILERO_VAD_V5_MANIFEST, id: 'Bad Id' }, model: sileroBytes(), ort }));
    expect(e.code).toBe('MANIFEST_INVALID');
  });

  it('INFERENCE_FAILED when onnxruntime rejects a run the manifest allowed', async () => {
    // The model needs at least 64 + 1 samples of context; the manifest here does not say so.
    const p = await createPredictor({ manifest: symbolic, model: sileroBytes(), ort });
    const e = await errorOf(p.run({ input: { dtype: 'float32', shape: [1, 0], data: new Float32Array(0) }, state: zeroState() }));
    expect(e.code).toBe('INFERENCE_FAILED');
    expect(e.message).toContain('model silero-vad-v5@5.0.0 failed to run');
    await p.release();
    const after = await errorOf(p.run({ input: frame(), state: zeroState() }));
    expect(after.code).toBe('INFERENCE_FAILED');
  });
});
