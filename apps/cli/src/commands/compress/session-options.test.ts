import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeWireTensor } from '@lepton/contracts';
import { bundledModelPath } from '@lepton/node-platform';
import { AccuracyAccumulator, SESSION_OPTIONS_KEY, decodeModel, encodeModel, inspectModel, type OutputSpec } from '@lepton/onnx';
import { gemmModel, matmulModel } from '@lepton/onnx/testing';
import { runInfer } from '../infer/run-infer';
import { registerConvertCommand } from './convert';
import { registerEvalCommand } from './eval';
import { registerPruneCommand } from './prune';
import { registerQuantizeCommand } from './quantize';
import { loadSamples } from './samples';

/**
 * The session options a compressed model needs (lepton.session_options) are decided by @lepton/onnx
 * requiredSessionOptions, printed by quantize/convert/prune, written into the output and used by eval and
 * infer --on local. Measured on onnxruntime-node 1.30: an int8-weight MatMul at the default level ('all') is
 * fused into a kernel that quantizes activations at run time; at 'basic' it is DequantizeLinear then MatMul,
 * as onnxruntime-web computes it.
 */
const MNIST = join(import.meta.dirname, '../../../../../../shared/models/mnist-8.onnx');
const SILERO = bundledModelPath('silero-vad-v5');
const NO_TTY = { isTTY: false, write: () => true };

async function lepton(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const out = (t: string): void => void lines.push(t);
  const program = new Command().exitOverride();
  registerQuantizeCommand(program, out, NO_TTY).exitOverride();
  registerConvertCommand(program, out).exitOverride();
  registerPruneCommand(program, out).exitOverride();
  registerEvalCommand(program, out, NO_TTY).exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return lines;
}

const recorded = (file: string) => decodeModel(new Uint8Array(readFileSync(file))).metadataProps.filter((p) => p.key === SESSION_OPTIONS_KEY).map((p) => p.value);

/** The accuracy numbers of `variant` against `reference` with sessions made here at the given levels. */
async function measured(reference: string, variant: string, data: string, spec: OutputSpec, variantLevel: 'basic' | 'all') {
  const ref = await ort.InferenceSession.create(reference);
  const cand = await ort.InferenceSession.create(variant, { graphOptimizationLevel: variantLevel });
  const acc = new AccuracyAccumulator({ outputs: [spec] });
  const outputs: Float32Array[] = [];
  for (const s of loadSamples(data, inspectModel(new Uint8Array(readFileSync(reference))), 'evaluation')) {
    const a = (await ref.run(s.feeds as never))[spec.name]!.data as Float32Array;
    const b = (await cand.run(s.feeds as never))[spec.name]!.data as Float32Array;
    outputs.push(b);
    acc.add({ [spec.name]: a }, { [spec.name]: b });
  }
  await ref.release();
  await cand.release();
  return { outputs: acc.finish('v', { bytes: 1, referenceBytes: 1 }, {}).outputs, values: outputs };
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

describe('lepton quantize/convert/prune record the session options their output needs; eval and infer --on local use them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-session-options-'));
  const fp32 = join(dir, 'matmul.onnx');
  writeFileSync(fp32, matmulModel(2, 24, 12));
  const int8 = join(dir, 'matmul-int8.onnx');

  it('quantize --mode int8-weight of a MatMul prints and records graphOptimizationLevel basic; fp16 and prune record nothing', async () => {
    const doc = JSON.parse((await lepton('quantize', fp32, '-o', int8, '--json')).join('\n'));
    expect(doc.sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    expect(recorded(int8)).toEqual(['{"graphOptimizationLevel":"basic"}']);
    const lines = await lepton('quantize', fp32, '-o', int8);
    expect(lines[1]).toBe('sessions: graphOptimizationLevel basic (recorded in lepton.session_options; every platform must use it for the same numbers)');

    const f16 = join(dir, 'matmul-fp16.onnx');
    expect(JSON.parse((await lepton('convert', fp32, '-o', f16, '--fp16', '--json')).join('\n')).sessionOptions).toBeNull();
    expect((await lepton('convert', fp32, '-o', f16, '--fp16'))[1]).toBe('sessions: no options required (no lepton.session_options recorded)');
    expect(recorded(f16)).toEqual([]);
    // Pruning the int8 model keeps its DequantizeLinear -> MatMul, so the record is made again (not lost).
    const pruned = join(dir, 'matmul-int8-pruned.onnx');
    expect(JSON.parse((await lepton('prune', int8, '-o', pruned, '--sparsity', '0.3', '--json')).join('\n')).sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    expect(recorded(pruned)).toEqual(['{"graphOptimizationLevel":"basic"}']);
  });

  it('eval of the int8-weight model equals sessions made with basic bit for bit, and differs from the default level', async () => {
    const spec: OutputSpec = { name: 'Y', decision: 'argmax', classes: 12 };
    const report = JSON.parse((await lepton('eval', fp32, int8, '--data', 'random:16', '--json')).join('\n'));
    expect(report.sessionOptions).toEqual({ reference: null, variant: { graphOptimizationLevel: 'basic' } });
    const basic = await measured(fp32, int8, 'random:16', spec, 'basic');
    const all = await measured(fp32, int8, 'random:16', spec, 'all');
    console.log(`int8-weight MatMul [2,24]x[24,12] vs fp32 on 16 random inputs: eval max |diff| ${report.outputs[0].maxAbsDiff}, SQNR ${report.outputs[0].sqnrDb} dB; basic session ${basic.outputs[0]!.maxAbsDiff}, default level ${all.outputs[0]!.maxAbsDiff}; basic vs default outputs ${maxAbsDiff(basic.values, all.values)}`);
    expect(report.outputs).toEqual(basic.outputs);
    expect(report.outputs[0].maxAbsDiff).toBe(basic.outputs[0]!.maxAbsDiff);
    expect(report.outputs[0].maxAbsDiff).not.toBe(all.outputs[0]!.maxAbsDiff);
    // Measured here: 0.0093302 at basic (float DequantizeLinear then MatMul), 0.0125293 at the default level.
    expect(report.outputs[0].maxAbsDiff).toBeCloseTo(0.00933, 5);
    expect(all.outputs[0]!.maxAbsDiff).toBeCloseTo(0.0125, 3);
    // The fused kernel quantizes X to 8 bits: outputs move by ~1e-2 on values of magnitude ~3.
    expect(maxAbsDiff(basic.values, all.values)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(basic.values, all.values)).toBeLessThan(0.1);
  });

  it('infer --on local of the recorded int8 file runs at basic: the same bytes as a basic session, not the default one', async () => {
    const x = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i * 0.7) * 1.5);
    const out = await runInfer(int8, [{ name: 'X', dtype: 'float32', shape: [2, 24], data: Buffer.from(x.buffer).toString('base64') }], { on: 'local', server: '', edge: '', format: 'base64' });
    const y = decodeWireTensor(out.outputs[0]!).data as Float32Array;
    const run = async (level: 'basic' | 'all') => {
      const s = await ort.InferenceSession.create(int8, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
      const r = (await s.run({ X: new ort.Tensor('float32', x, [2, 24]) })).Y!.data as Float32Array;
      await s.release();
      return r;
    };
    expect(Array.from(y)).toEqual(Array.from(await run('basic')));
    expect(Array.from(y)).not.toEqual(Array.from(await run('all')));
  });

  it('Gemm (transB 0) is recorded too; a file without the record gets what its graph requires', async () => {
    const gemm = join(dir, 'gemm.onnx');
    writeFileSync(gemm, gemmModel(2, 24, 10, 0));
    const q = join(dir, 'gemm-int8.onnx');
    expect(JSON.parse((await lepton('quantize', gemm, '-o', q, '--json')).join('\n')).sessionOptions).toEqual({ graphOptimizationLevel: 'basic' });
    // Strip the record: eval still runs the variant at basic (decided from the graph).
    const m = decodeModel(new Uint8Array(readFileSync(q)));
    m.metadataProps = m.metadataProps.filter((p) => p.key !== SESSION_OPTIONS_KEY);
    writeFileSync(q, encodeModel(m));
    const report = JSON.parse((await lepton('eval', gemm, q, '--data', 'random:4', '--json')).join('\n'));
    expect(report.sessionOptions.variant).toEqual({ graphOptimizationLevel: 'basic' });
  });

  it('Silero VAD int8-weight needs no options: no DequantizeLinear reaches a MatMul, and default and basic sessions agree bit for bit', async () => {
    const out = join(dir, 'silero-int8.onnx');
    const doc = JSON.parse((await lepton('quantize', SILERO, '-o', out, '--json')).join('\n'));
    expect(doc.sessionOptions).toBeNull();
    expect(recorded(out)).toEqual([]);
    const feeds = {
      input: new ort.Tensor('float32', Float32Array.from({ length: 576 }, (_, i) => Math.sin(i / 9) * 0.3), [1, 576]),
      state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
    };
    const prob = async (level: 'basic' | 'all') => {
      const s = await ort.InferenceSession.create(out, { graphOptimizationLevel: level });
      const r = Array.from((await s.run(feeds)).output!.data as Float32Array);
      await s.release();
      return r;
    };
    expect(await prob('all')).toEqual(await prob('basic'));
  });

  it.skipIf(!existsSync(MNIST))('mnist-8 int8-weight: its MatMul weight reaches it through a Reshape, nothing to record, and default equals basic', async () => {
    const out = join(dir, 'mnist-int8.onnx');
    const doc = JSON.parse((await lepton('quantize', MNIST, '-o', out, '--json')).join('\n'));
    expect(doc.sessionOptions).toBeNull();
    const spec: OutputSpec = { name: 'Plus214_Output_0', decision: 'argmax', classes: 10 };
    const basic = await measured(MNIST, out, 'mnist:0:10', spec, 'basic');
    const all = await measured(MNIST, out, 'mnist:0:10', spec, 'all');
    expect(maxAbsDiff(basic.values, all.values)).toBe(0);
  });
});
