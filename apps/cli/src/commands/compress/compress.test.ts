import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerConvertCommand } from './convert';
import { registerEvalCommand } from './eval';
import { registerInspectCommand } from './inspect';
import { registerPruneCommand } from './prune';
import { registerQuantizeCommand } from './quantize';
import { loadSamples, parseSampleSpec, sampleOverlap } from './samples';
import { inspectModel } from '@lepton/onnx';
import { matmulModel } from '@lepton/onnx/testing';

const require = createRequire(import.meta.url);
const SILERO = join(require.resolve('@ricky0123/vad-web/package.json'), '../dist/silero_vad_v5.onnx');
const MNIST = join(import.meta.dirname, '../../../../../../shared/models/mnist-8.onnx');

async function lepton(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const out = (t: string): void => void lines.push(t);
  const program = new Command().exitOverride();
  for (const register of [registerInspectCommand, registerQuantizeCommand, registerConvertCommand, registerPruneCommand, registerEvalCommand]) register(program, out).exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return lines;
}

describe('lepton inspect / quantize / convert / prune / eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lepton-compress-'));

  it('inspect --json reports Silero weights in Constant nodes of subgraphs', async () => {
    const doc = JSON.parse((await lepton('inspect', SILERO, '--json')).join('\n'));
    expect(doc.weightLocations.subgraphConstant.tensors).toBeGreaterThan(300);
    expect(doc.opsets).toEqual([{ domain: '', version: 16 }]);
  });

  it('quantize --mode int8-weight with --external-data writes the model and its data file', async () => {
    const out = join(dir, 'silero-int8.onnx');
    const doc = JSON.parse((await lepton('quantize', SILERO, '-o', out, '--json', '--external-data')).join('\n'));
    expect(doc.ratio).toBeLessThanOrEqual(0.35);
    expect(statSync(out).size + statSync(`${out}.data`).size).toBe(doc.bytesAfter);
    const again = JSON.parse((await lepton('inspect', out, '--json')).join('\n'));
    expect(again.size).toBe(doc.bytesAfter);
  });

  it('--exclude-nodes keeps the named nodes float32 in every mode; an unknown node name is VALIDATION_FAILED (int8-weight ignored node names, and typos passed silently)', async () => {
    const conv = 'If_0_else_branch__Inline_0__/encoder/0/reparam_conv/Conv';
    const weight = 'If_0_else_branch__Inline_0__encoder.0.reparam_conv.weight';
    const quantized = (doc: { report: { quantized: { name: string }[] } }) => doc.report.quantized.map((q) => q.name.split(':').pop());
    const all = JSON.parse((await lepton('quantize', SILERO, '-o', join(dir, 'all.onnx'), '--json')).join('\n'));
    expect(quantized(all)).toContain(weight);
    const kept = JSON.parse((await lepton('quantize', SILERO, '-o', join(dir, 'kept.onnx'), '--json', '--exclude-nodes', conv)).join('\n'));
    expect(quantized(kept)).not.toContain(weight);
    expect(quantized(kept)).toHaveLength(quantized(all).length - 1);
    expect(kept.bytesAfter).toBeGreaterThan(all.bytesAfter);
    const err = await lepton('quantize', SILERO, '-o', join(dir, 'typo.onnx'), '--exclude-nodes', `${conv},Conv_typo`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((err as Error).message).toMatch(/^--exclude-nodes "Conv_typo": the model has no node of that name; expected node names of the model, such as "/);
    expect(existsSync(join(dir, 'typo.onnx'))).toBe(false);
  });

  it('convert --fp16 and prune write loadable models', async () => {
    const f16 = join(dir, 'silero-fp16.onnx');
    const [line] = await lepton('convert', SILERO, '-o', f16, '--fp16');
    expect(line).toMatch(/tensors converted/);
    const pruned = join(dir, 'silero-pruned.onnx');
    const doc = JSON.parse((await lepton('prune', SILERO, '-o', pruned, '--sparsity', '0.5', '--json')).join('\n'));
    expect(doc.report.overallSparsity).toBeCloseTo(0.5, 3);
    expect(readFileSync(pruned).length).toBeGreaterThan(1_000_000);
  });

  it('rejects an output path that is a directory or cannot be written with BAD_REQUEST naming it (was INTERNAL EISDIR)', async () => {
    const err = await lepton('quantize', SILERO, '-o', dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as Error).message).toBe(`output ${JSON.stringify(dir)} is a directory; expected a file path for the model (for example ${join(dir, 'model.onnx')})`);
    // A regular file where a folder of the path should be: mkdir fails with ENOTDIR/EEXIST.
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const nested = join(file, 'out.onnx');
    const err2 = await lepton('convert', SILERO, '-o', nested, '--fp16').catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err2 as Error).message.startsWith(`cannot write ${JSON.stringify(nested)}: `)).toBe(true);
    expect((err2 as Error).message.endsWith('; expected a writable file path')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // An empty -o names the problem (it spoke of renaming a .tmp-PID file).
    const empty = await lepton('quantize', SILERO, '-o', '').catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: 'BAD_REQUEST', message: 'output path is ""; expected a file path for the model (-o OUT.onnx)' });
  });

  it('mnist specs are slices of each label; malformed ones are VALIDATION_FAILED; random calibration and evaluation never share inputs', async () => {
    for (const [spec, source] of [['mnist', { kind: 'mnist', from: 0, to: null }], ['mnist:5', { kind: 'mnist', from: 0, to: 5 }], ['mnist:5:25', { kind: 'mnist', from: 5, to: 25 }], ['mnist:50:', { kind: 'mnist', from: 50, to: null }]] as const) {
      expect(parseSampleSpec(spec, 'evaluation'), spec).toEqual(source);
    }
    for (const spec of ['mnist:0', 'mnist:5:5', 'mnist:x', 'mnist:1:2:3', 'mnist:-1:4']) {
      expect(() => parseSampleSpec(spec, 'evaluation'), spec).toThrow(`samples ${JSON.stringify(spec)}: expected mnist:N (first N digits of each label) or mnist:A:B / mnist:A: (digits A..B-1, or from A) with 0 <= A < B`);
    }
    expect(sampleOverlap({ kind: 'mnist', from: 0, to: 5 }, { kind: 'mnist', from: 5, to: 25 })).toBeUndefined();
    const info = inspectModel(matmulModel(2, 24, 12));
    const calib = loadSamples('random:2', info, 'calibration');
    const evalSet = loadSamples('random:2', info, 'evaluation');
    const first = (s: typeof calib) => Array.from((s[0]!.feeds.X as { data: Float32Array }).data.slice(0, 4));
    expect(first(calib)).not.toEqual(first(evalSet));
  });

  it('rejects a bad sparsity and a static run without calibration data', async () => {
    await expect(lepton('prune', SILERO, '-o', join(dir, 'x.onnx'), '--sparsity', '1.5')).rejects.toThrow(/expected a number in \[0, 1\)/);
    await expect(lepton('quantize', SILERO, '-o', join(dir, 'x.onnx'), '--mode', 'int8-static')).rejects.toThrow(/needs --calib/);
  });

  it('samples files that do not fit the model, an empty one, a variant with other inputs and a bad --threshold are typed errors (were INTERNAL from onnxruntime, or ran)', async () => {
    const zeros = (n: number) => Buffer.alloc(n * 4).toString('base64');
    const frame = { dtype: 'float32', shape: [1, 576], data: zeros(576) };
    const state = { dtype: 'float32', shape: [2, 1, 128], data: zeros(256) };
    const sr = { dtype: 'int64', shape: [], data: ['16000'] };
    const file = (name: string, doc: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(doc));
      return path;
    };
    const good = file('good.json', { samples: [{ inputs: { input: frame, state, sr } }] });
    const failure = (p: Promise<unknown>) => p.then(() => ({ code: 'none', message: 'it ran' }), (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
    const cases: [string, unknown, string, string][] = [
      ['missing.json', { samples: [{ inputs: { input: frame } }] }, 'INPUT_MISSING', "samples[0] has no input 'state'; the model needs 'input', 'state', 'sr'"],
      ['unknown.json', { samples: [{ inputs: { input: frame, state, sr, Input3: frame } }] }, 'INPUT_UNKNOWN', "samples[0] has input 'Input3', which the model does not take; expected 'input', 'state', 'sr'"],
      ['dtype.json', { samples: [{ inputs: { input: frame, state, sr: { dtype: 'int32', shape: [], data: [16000] } } }] }, 'TENSOR_DTYPE_MISMATCH', "samples[0] input 'sr' is int32; the model expects int64"],
      ['shape.json', { samples: [{ inputs: { input: frame, state: { dtype: 'float32', shape: [1, 256], data: zeros(256) }, sr } }] }, 'TENSOR_SHAPE_MISMATCH', "samples[0] input 'state' has shape [1, 256]; the model expects [2, ?, 128]"],
      ['no-inputs.json', { samples: [{ label: 1 }] }, 'VALIDATION_FAILED', 'samples[0] has no "inputs" object'],
      ['empty.json', { samples: [] }, 'VALIDATION_FAILED', 'holds no samples; expected at least one'],
      ['null.json', null, 'VALIDATION_FAILED', 'has no "samples" array'],
    ];
    for (const [name, doc, code, message] of cases) {
      const path = file(name, doc);
      for (const run of [lepton('eval', SILERO, SILERO, '--data', path), lepton('quantize', SILERO, '-o', join(dir, 'q.onnx'), '--mode', 'int8-static', '--calib', path)]) {
        const e = await failure(run);
        expect(e.code, name).toBe(code);
        expect(e.message, name).toContain(`${path} ${message}`);
      }
    }
    // A variant whose graph inputs are float16 cannot take the reference's float32 samples.
    const f16io = join(dir, 'silero-f16-io.onnx');
    await lepton('convert', SILERO, '-o', f16io, '--fp16', '--no-keep-io-types');
    const e = await failure(lepton('eval', SILERO, f16io, '--data', good));
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.message).toBe(
      `${f16io} takes inputs (input float16, state float16, sr int64), ${SILERO} takes (input float32, state float32, sr int64); expected a variant with the reference's inputs (convert --fp16 keeps them unless --no-keep-io-types)`,
    );
    await expect(lepton('eval', SILERO, SILERO, '--data', good, '--threshold', 'abc')).rejects.toThrow("option '--threshold <t>' argument 'abc' is invalid. expected a finite number.");
    await expect(lepton('eval', SILERO, SILERO, '--data', good, '--classes', '0')).rejects.toThrow("option '--classes <n>' argument '0' is invalid. expected a positive integer.");
    const report = JSON.parse((await lepton('eval', SILERO, SILERO, '--data', good, '--threshold', '0.5', '--json')).join('\n'));
    expect(report.outputs[0].agreement).toBe(1);
  });

  it.skipIf(!existsSync(MNIST))('prune --mode channels removes mnist-8 conv channels and the result still evaluates', async () => {
    const out = join(dir, 'mnist-channels.onnx');
    const doc = JSON.parse((await lepton('prune', MNIST, '-o', out, '--sparsity', '0.25', '--mode', 'channels', '--json')).join('\n'));
    // Convolution28 (8 filters) feeds Convolution110 through Add, Relu and MaxPool; Convolution110 (16) reaches the
    // classifier MatMul through a Reshape to [1, 256] (16 channels x 4 x 4), whose shape constant is rewritten.
    expect(doc.report.channels.map((c: { channelsBefore: number; channelsAfter: number; between: string[] }) => [c.channelsBefore, c.channelsAfter, c.between])).toEqual([
      [8, 6, ['Add', 'Relu', 'MaxPool']],
      [16, 12, ['Add', 'Relu', 'MaxPool', 'Reshape']],
    ]);
    expect(doc.report.channels[1].rewritten).toContain('Times212_reshape0 shape "Pooling160_Output_0_reshape0_shape" [1, 256] -> [1, 192]');
    expect(doc.bytesAfter).toBeLessThan(doc.bytesBefore);
    const report = JSON.parse((await lepton('eval', MNIST, out, '--data', 'mnist:20', '--json')).join('\n'));
    expect(report.samples).toBe(200);
    expect(report.labelled.accuracy).toBeGreaterThan(0.5);
  });

  it.skipIf(!existsSync(MNIST))('quantize --mode int8-static --calib mnist:5, then eval on the next 20 digits of each label (--data mnist:5:25 --json)', async () => {
    const out = join(dir, 'mnist-static.onnx');
    const lines = await lepton('quantize', MNIST, '-o', out, '--mode', 'int8-static', '--calib', 'mnist:5');
    expect(lines.at(-1)).toBe('calibrated on mnist digits 0..4 of each label; evaluate on other samples (lepton eval refuses these)');
    // Digits 0..4 of each label calibrated the model: evaluating on them is refused, naming the overlap.
    const err = await lepton('eval', MNIST, out, '--data', 'mnist:20').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((err as Error).message).toBe(
      `--data mnist:20 reuses the samples ${out} was calibrated on (mnist digits 0..4 of each label): digits 0..4 of each label are in both; expected evaluation samples disjoint from calibration, such as --data mnist:5:25`,
    );
    await expect(lepton('eval', MNIST, out, '--data', 'mnist:3:')).rejects.toThrow(/digits 3\.\.4 of each label are in both/);
    const report = JSON.parse((await lepton('eval', MNIST, out, '--data', 'mnist:5:25', '--json')).join('\n'));
    expect(report.data).toBe('mnist digits 5..24 of each label');
    expect(report.samples).toBe(200);
    expect(report.labelled.accuracy).toBeGreaterThan(0.97);
    expect(report.outputs[0].agreement).toBeGreaterThan(0.97);
    expect(report.latency.ratio).toBeGreaterThan(0);
  });
});
