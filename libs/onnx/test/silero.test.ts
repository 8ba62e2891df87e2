import { describe, expect, it } from 'vitest';
import { convertFloat16, decodeModel, findWeights, inspectModel, pruneWeights, quantizeDynamic, quantizeWeightsInt8, weightPath } from '../src';
import { sileroBytes } from './support/data';
import { checkModels, createRunner, createWebRunner, hasChecker, ort, ortWeb } from './support/ort';
import { vadProbabilities, wav16k } from './support/vad';

const fp32 = sileroBytes();
const int8 = quantizeWeightsInt8(fp32);
const speech = wav16k('/usr/share/sounds/alsa/Front_Center.wav');
const noise = wav16k('/usr/share/sounds/alsa/Noise.wav').subarray(0, 16000 * 2);

describe('Silero VAD v5 (compression cases weights-in-constant-nodes, weights-inside-subgraphs)', () => {
  it('inspect reports the weights as Constant nodes inside subgraphs', () => {
    const r = inspectModel(fp32);
    expect(r.weightLocations.initializer.tensors).toBe(0);
    expect(r.weightLocations.subgraphConstant.bytes).toBeGreaterThan(2_000_000);
    expect(r.ops.If).toBe(25);
    expect(r.ops.LSTM).toBe(4);
    expect(r.subgraphs).toBe(50);
    expect(r.passes.find((p) => p.pass === 'int8-weight')!.detail).toContain('constant in subgraph');
  });

  it('int8-weight shrinks the file to <= 0.35x and leaves no float32 weight over 1 KiB unreported', () => {
    const ratio = int8.model.length / fp32.length;
    expect(ratio).toBeLessThanOrEqual(0.35);
    expect(int8.report.quantized.every((q) => q.location === 'constant' && q.graph !== 'main')).toBe(true);
    const reported = new Set(int8.report.kept.map((k) => k.name));
    // Per-channel scales (258 of them for the STFT basis) are quantization parameters, not weights.
    const isScale = (w: ReturnType<typeof findWeights>[number]) => w.uses.every((u) => u.node.opType === 'DequantizeLinear' && u.input === 1);
    const left = findWeights(decodeModel(int8.model)).filter((w) => w.tensor.dataType === 1 && w.bytes > 1024 && !isScale(w));
    expect(left.filter((w) => !reported.has(w.name)).map(weightPath)).toEqual([]);
  });

  it('int8-weight agrees with fp32 on speech/non-speech per chunk on real audio (speech and noise)', async () => {
    for (const samples of [speech, noise]) {
      const ref = await vadProbabilities(fp32, samples, createRunner, ort);
      const got = await vadProbabilities(int8.model, samples, createRunner, ort);
      let agree = 0;
      let maxDiff = 0;
      for (let i = 0; i < ref.length; i++) {
        if (ref[i]! >= 0.5 === got[i]! >= 0.5) agree++;
        maxDiff = Math.max(maxDiff, Math.abs(ref[i]! - got[i]!));
      }
      expect(agree / ref.length).toBeGreaterThanOrEqual(0.97);
      expect(maxDiff).toBeLessThan(0.2);
    }
  });

  it('fp16, int8-dynamic and prune variants load and run on onnxruntime-node and onnxruntime-web', async () => {
    const variants = {
      int8: int8.model,
      fp16: convertFloat16(fp32).model,
      dynamic: quantizeDynamic(fp32).model,
      prune: pruneWeights(fp32, { sparsity: 0.3 }).model,
    };
    const clip = speech.subarray(0, 512 * 8);
    const ref = await vadProbabilities(fp32, clip, createRunner, ort);
    for (const [name, bytes] of Object.entries(variants)) {
      const node = await vadProbabilities(bytes, clip, createRunner, ort);
      const web = await vadProbabilities(bytes, clip, createWebRunner, ortWeb);
      for (let i = 0; i < ref.length; i++) {
        expect(Math.abs(node[i]! - ref[i]!), `${name} chunk ${i}`).toBeLessThan(0.25);
        expect(Math.abs(web[i]! - node[i]!), `${name} web vs node chunk ${i}`).toBeLessThan(0.02);
      }
    }
  });

  it.skipIf(!hasChecker)('every Silero variant passes onnx.checker.check_model', () => {
    const variants = { int8: int8.model, fp16: convertFloat16(fp32).model, dynamic: quantizeDynamic(fp32).model, prune: pruneWeights(fp32, { sparsity: 0.3 }).model };
    expect(checkModels(variants)).toEqual({ int8: '', fp16: '', dynamic: '', prune: '' });
  });
});
