/**
 * tensor-core kernels against onnxruntime-node, side by side in one run (a benchmark, never a test):
 *   node --import tsx tools/bench/tensor-core.ts [--sizes 1e3,1e5,1e7] [--ms 300] [--ort-threads N]
 * For each kernel and size it prints elements per second for our kernel (writing into a reused output buffer,
 * as the API allows) and for onnxruntime-node running the same op as a one-node (or few-node) model, measured
 * around `await session.run(feeds)` including tensor wrapping: what a caller pays. The ratio is ours / ORT.
 * Writes tools/bench/results/tensor-core.json and .md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  argmax,
  dequantizeLinear,
  dynamicQuantizeLinear,
  float16ToFloat32Array,
  float32ToFloat16Array,
  imageToTensor,
  quantizeLinear,
  resize,
  sigmoid,
  softmax,
  transpose,
} from '@lepton/tensor-core';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

// A minimal ONNX model builder (tensor-core's tests have a fuller one in test/support/onnx-model.ts; a tool may
// not import a library's test files).
const { onnx } = onnxProto;
type Attr = number | readonly number[];
interface Init {
  name: string;
  dtype: 'float32' | 'uint8';
  shape: number[];
  data: Float32Array | Uint8Array;
}
const ELEM = { float32: 1, uint8: 2, int64: 7, float16: 10 } as const;

function buildModel(spec: {
  nodes: { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, Attr> }[];
  inputs: { name: string; dtype: keyof typeof ELEM; shape: number[] }[];
  outputs: { name: string; dtype: keyof typeof ELEM; shape: number[] }[];
  initializers?: Init[];
}): Uint8Array {
  const AT = onnx.AttributeProto.AttributeType;
  const value = (v: { name: string; dtype: keyof typeof ELEM; shape: number[] }) => ({
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.dtype], shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  });
  const graph = {
    name: 'bench',
    node: spec.nodes.map((n) => ({
      opType: n.op,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) =>
        typeof v === 'number' ? { name, type: AT.INT, i: v } : { name, type: AT.INTS, ints: [...v] },
      ),
    })),
    input: spec.inputs.map(value),
    output: spec.outputs.map(value),
    initializer: (spec.initializers ?? []).map((t) => ({
      name: t.name,
      dataType: ELEM[t.dtype],
      dims: t.shape,
      rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    })),
  };
  const model = onnx.ModelProto.create({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

function oneNodeModel(
  op: string,
  inputs: { name: string; dtype: keyof typeof ELEM; shape: number[] }[],
  outputs: { name: string; dtype: keyof typeof ELEM; shape: number[] }[],
  attrs: Record<string, Attr> = {},
  initializers: Init[] = [],
): Uint8Array {
  const names = [...inputs.map((i) => i.name), ...initializers.map((i) => i.name)];
  return buildModel({ nodes: [{ op, inputs: names, outputs: outputs.map((o) => o.name), attrs }], inputs, outputs, initializers });
}

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const SIZES = opt('sizes', '1e3,1e5,1e7').split(',').map(Number);
const ONLY = opt('only', '').split(',').filter(Boolean);
const TARGET_MS = Number(opt('ms', '300'));
/** onnxruntime's intra-op threads (0: its default, every core). Ours are single-threaded; 1 compares per core. */
const ORT_THREADS = Number(opt('ort-threads', '0'));

interface Case {
  /** Element count actually used (shapes round the nominal size). */
  elements: number;
  ours: () => void;
  ort: () => Promise<unknown>;
}

// Every session of the run, released after its case so idle ORT threads never compete with the next one.
const open: ort.InferenceSession[] = [];

interface Kernel {
  name: string;
  what: string;
  setup: (n: number) => Promise<Case>;
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function floats(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 4294967296) * 20 - 10;
  }
  return x;
}

async function session(model: Uint8Array): Promise<ort.InferenceSession> {
  const s = await ort.InferenceSession.create(model, ORT_THREADS > 0 ? { intraOpNumThreads: ORT_THREADS } : {});
  open.push(s);
  return s;
}

/** [1, H, W, C] with H = W chosen so the count is close to n. */
function imageShape(n: number, c: number): number[] {
  const side = Math.max(1, Math.round(Math.sqrt(n / c)));
  return [1, side, side, c];
}

const kernels: Kernel[] = [
  {
    name: 'quantize',
    what: 'QuantizeLinear float32 -> uint8, per tensor',
    async setup(n) {
      const x = floats(n);
      const out = new Uint8Array(n);
      const spec = { dtype: 'uint8' as const, scale: 0.08, zeroPoint: 128 };
      const s = await session(
        oneNodeModel('QuantizeLinear', [{ name: 'x', dtype: 'float32', shape: [n] }], [{ name: 'y', dtype: 'uint8', shape: [n] }], {}, [
          { name: 's', dtype: 'float32', shape: [], data: Float32Array.of(0.08) },
          { name: 'z', dtype: 'uint8', shape: [], data: Uint8Array.of(128) },
        ]),
      );
      return { elements: n, ours: () => quantizeLinear(x, [n], spec, out), ort: () => s.run({ x: new ort.Tensor('float32', x, [n]) }) };
    },
  },
  {
    name: 'dequantize',
    what: 'DequantizeLinear uint8 -> float32, per tensor',
    async setup(n) {
      const q = Uint8Array.from(floats(n), (v) => (v * 12) & 255);
      const out = new Float32Array(n);
      const spec = { dtype: 'uint8' as const, scale: 0.08, zeroPoint: 128 };
      const s = await session(
        oneNodeModel('DequantizeLinear', [{ name: 'q', dtype: 'uint8', shape: [n] }], [{ name: 'y', dtype: 'float32', shape: [n] }], {}, [
          { name: 's', dtype: 'float32', shape: [], data: Float32Array.of(0.08) },
          { name: 'z', dtype: 'uint8', shape: [], data: Uint8Array.of(128) },
        ]),
      );
      return { elements: n, ours: () => dequantizeLinear(q, [n], spec, out), ort: () => s.run({ q: new ort.Tensor('uint8', q, [n]) }) };
    },
  },
  {
    name: 'float16 cast',
    what: 'Cast float32 -> float16 (bits)',
    async setup(n) {
      const x = floats(n);
      const out = new Uint16Array(n);
      const s = await session(oneNodeModel('Cast', [{ name: 'x', dtype: 'float32', shape: [n] }], [{ name: 'y', dtype: 'float16', shape: [n] }], { to: 10 }));
      return { elements: n, ours: () => float32ToFloat16Array(x, out), ort: () => s.run({ x: new ort.Tensor('float32', x, [n]) }) };
    },
  },
  {
    name: 'transpose',
    what: 'NHWC -> NCHW float32, C = 3',
    async setup(n) {
      const shape = imageShape(n, 3);
      const count = shape.reduce((a, b) => a * b, 1);
      const x = floats(count);
      const out = new Float32Array(count);
      const outShape = [1, 3, shape[1]!, shape[2]!];
      const s = await session(
        oneNodeModel('Transpose', [{ name: 'x', dtype: 'float32', shape }], [{ name: 'y', dtype: 'float32', shape: outShape }], { perm: [0, 3, 1, 2] }),
      );
      return { elements: count, ours: () => transpose(x, shape, [0, 3, 1, 2], out), ort: () => s.run({ x: new ort.Tensor('float32', x, shape) }) };
    },
  },
  {
    name: 'normalize',
    what: 'RGB uint8 NHWC -> planar float32 (x / 255 - mean) / std',
    async setup(n) {
      const shape = imageShape(n, 3);
      const count = shape.reduce((a, b) => a * b, 1);
      const pixels = Uint8Array.from(floats(count), (v) => (v * 25) & 255);
      const out = new Float32Array(count);
      const [, h, w] = shape as [number, number, number, number];
      const opts = { width: w, height: h, format: 'rgb' as const, mean: MEAN, std: STD };
      const c = (name: string, v: number[]) => ({ name, dtype: 'float32' as const, shape: v.length === 1 ? [] : [1, 3, 1, 1], data: Float32Array.from(v) });
      const s = await session(
        buildModel({
          nodes: [
            { op: 'Cast', inputs: ['x'], outputs: ['f'], attrs: { to: 1 } },
            { op: 'Transpose', inputs: ['f'], outputs: ['t'], attrs: { perm: [0, 3, 1, 2] } },
            { op: 'Div', inputs: ['t', 'k'], outputs: ['d'] },
            { op: 'Sub', inputs: ['d', 'mean'], outputs: ['m'] },
            { op: 'Div', inputs: ['m', 'std'], outputs: ['y'] },
          ],
          inputs: [{ name: 'x', dtype: 'uint8', shape }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3, h, w] }],
          initializers: [c('k', [255]), c('mean', MEAN), c('std', STD)],
        }),
      );
      return { elements: count, ours: () => imageToTensor(pixels, opts, out), ort: () => s.run({ x: new ort.Tensor('uint8', pixels, shape) }) };
    },
  },
  {
    name: 'softmax',
    what: 'Softmax float32 over rows of 1000',
    async setup(n) {
      const rows = Math.max(1, Math.round(n / 1000));
      const shape = [rows, 1000];
      const x = floats(rows * 1000);
      const out = new Float32Array(rows * 1000);
      const s = await session(oneNodeModel('Softmax', [{ name: 'x', dtype: 'float32', shape }], [{ name: 'y', dtype: 'float32', shape }], { axis: -1 }));
      return { elements: rows * 1000, ours: () => softmax(x, shape, -1, out), ort: () => s.run({ x: new ort.Tensor('float32', x, shape) }) };
    },
  },
  {
    name: 'float16 widen',
    what: 'Cast float16 -> float32',
    async setup(n) {
      const h = float32ToFloat16Array(floats(n));
      const out = new Float32Array(n);
      const s = await session(oneNodeModel('Cast', [{ name: 'x', dtype: 'float16', shape: [n] }], [{ name: 'y', dtype: 'float32', shape: [n] }], { to: 1 }));
      return { elements: n, ours: () => float16ToFloat32Array(h, out), ort: () => s.run({ x: new ort.Tensor('float16', h, [n]) }) };
    },
  },
  {
    name: 'dynamic quantize',
    what: 'DynamicQuantizeLinear float32 -> uint8 (range, scale, zero point, values)',
    async setup(n) {
      const x = floats(n);
      const out = new Uint8Array(n);
      const s = await session(
        buildModel({
          nodes: [{ op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 's', 'z'] }],
          inputs: [{ name: 'x', dtype: 'float32', shape: [n] }],
          outputs: [
            { name: 'y', dtype: 'uint8', shape: [n] },
            { name: 's', dtype: 'float32', shape: [] },
            { name: 'z', dtype: 'uint8', shape: [] },
          ],
        }),
      );
      return { elements: n, ours: () => dynamicQuantizeLinear(x, out), ort: () => s.run({ x: new ort.Tensor('float32', x, [n]) }) };
    },
  },
  {
    name: 'sigmoid',
    what: 'Sigmoid float32',
    async setup(n) {
      const x = floats(n);
      const out = new Float32Array(n);
      const s = await session(oneNodeModel('Sigmoid', [{ name: 'x', dtype: 'float32', shape: [n] }], [{ name: 'y', dtype: 'float32', shape: [n] }]));
      return { elements: n, ours: () => sigmoid(x, out), ort: () => s.run({ x: new ort.Tensor('float32', x, [n]) }) };
    },
  },
  {
    name: 'argmax',
    what: 'ArgMax float32 over rows of 1000 (ORT returns int64, ours int32)',
    async setup(n) {
      const rows = Math.max(1, Math.round(n / 1000));
      const shape = [rows, 1000];
      const x = floats(rows * 1000);
      const out = new Int32Array(rows);
      const s = await session(oneNodeModel('ArgMax', [{ name: 'x', dtype: 'float32', shape }], [{ name: 'y', dtype: 'int64', shape: [rows, 1] }], { axis: 1, keepdims: 1 }));
      return { elements: rows * 1000, ours: () => argmax(x, shape, { axis: 1 }, out), ort: () => s.run({ x: new ort.Tensor('float32', x, shape) }) };
    },
  },
  {
    name: 'resize',
    what: 'Resize linear half_pixel, NCHW C = 3, 2x up (elements = output count)',
    async setup(n) {
      const side = Math.max(1, Math.round(Math.sqrt(n / 12)));
      const shape = [1, 3, side, side];
      const outShape = [1, 3, 2 * side, 2 * side];
      const x = floats(3 * side * side);
      const out = new Float32Array(12 * side * side);
      const s = await session(
        oneNodeModel('Resize', [{ name: 'x', dtype: 'float32', shape }], [{ name: 'y', dtype: 'float32', shape: outShape }], {}, [
          { name: 'roi', dtype: 'float32', shape: [0], data: new Float32Array(0) },
          { name: 'scales', dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 2) },
        ]),
      );
      const opts = { size: [2 * side, 2 * side] as [number, number], mode: 'linear' as const, coordinateMode: 'half_pixel' as const };
      return { elements: out.length, ours: () => resize(x, shape, opts, out), ort: () => s.run({ x: new ort.Tensor('float32', x, shape) }) };
    },
  },
];

/** Timer for one implementation: calls per batch sized to >= 2 ms after a warm-up. */
async function timer(fn: () => unknown, isAsync: boolean): Promise<() => Promise<number>> {
  const call = async (k: number) => {
    const t0 = performance.now();
    if (isAsync) for (let i = 0; i < k; i++) await fn();
    else for (let i = 0; i < k; i++) fn();
    return performance.now() - t0;
  };
  // Warm-up (lets V8 optimize and ORT allocate its arenas), then size the batch.
  let batch = 1;
  let t = await call(1);
  while (t < 2 && batch < 1 << 20) {
    batch *= 2;
    t = await call(batch);
  }
  return async () => (await call(batch)) / batch;
}

/**
 * Median seconds per call of ours and ORT's. Each side runs back to back in blocks (its steady state: V8 code
 * optimized, ORT's pool threads warm and spinning, its best case), and the blocks alternate over several rounds
 * so both sides sample the same machine load; this machine is shared, so absolute times are noise.
 */
async function measurePair(ours: () => unknown, theirs: () => Promise<unknown>): Promise<[number, number]> {
  const a = await timer(ours, false);
  const b = await timer(theirs, true);
  const sa: number[] = [];
  const sb: number[] = [];
  const block = async (next: () => Promise<number>, into: number[]) => {
    const t0 = performance.now();
    do into.push(await next());
    while (performance.now() - t0 < TARGET_MS / ROUNDS && into.length < 400);
  };
  for (let r = 0; r < ROUNDS; r++) {
    await block(a, sa);
    await block(b, sb);
  }
  const median = (v: number[]) => v.sort((x, y) => x - y)[v.length >> 1]! / 1000;
  return [median(sa), median(sb)];
}

const ROUNDS = 4;

interface Row {
  kernel: string;
  what: string;
  nominal: number;
  elements: number;
  oursMelemPerS: number;
  ortMelemPerS: number;
  ratio: number;
  target: number | null;
  meetsTarget: boolean | null;
}

function targetFor(kernel: string, nominal: number): number | null {
  if (nominal <= 1e3) return 1;
  if (nominal >= 1e7) return ['quantize', 'dequantize', 'float16 cast', 'float16 widen', 'dynamic quantize'].includes(kernel) ? 0.5 : ['transpose', 'normalize'].includes(kernel) ? 1 : null;
  return null;
}

const rows: Row[] = [];
const started = Date.now();
for (const k of kernels.filter((k) => ONLY.length === 0 || ONLY.includes(k.name))) {
  for (const n of SIZES) {
    const c = await k.setup(n);
    const [ours, theirs] = await measurePair(c.ours, c.ort);
    for (const s of open.splice(0)) await s.release();
    const target = targetFor(k.name, n);
    const ratio = theirs / ours;
    rows.push({
      kernel: k.name,
      what: k.what,
      nominal: n,
      elements: c.elements,
      oursMelemPerS: c.elements / ours / 1e6,
      ortMelemPerS: c.elements / theirs / 1e6,
      ratio,
      target,
      meetsTarget: target === null ? null : ratio >= target,
    });
    const r = rows[rows.length - 1]!;
    console.error(`${k.name} n=${n}: ours ${r.oursMelemPerS.toFixed(1)} Melem/s, ort ${r.ortMelemPerS.toFixed(1)} Melem/s, ratio ${ratio.toFixed(2)}`);
  }
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const md = [
  `# tensor-core vs onnxruntime-node ${ort.env.versions.node ?? ''}`.trim(),
  '',
  `Node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'}), ORT default session options, ${TARGET_MS} ms per kernel and size (--ms), ${ROUNDS} interleaved rounds, medians.`,
  'Throughput in million elements per second; ratio = ours / ORT (higher is better for us).',
  '',
  '| kernel | elements | ours (Melem/s) | ORT (Melem/s) | ratio | target |',
  '|---|---:|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${r.kernel} | ${r.elements} | ${fmt(r.oursMelemPerS)} | ${fmt(r.ortMelemPerS)} | ${r.ratio.toFixed(2)}x | ${
        r.target === null ? '-' : `>= ${r.target}x ${r.meetsTarget ? 'met' : 'MISSED'}`
      } |`,
  ),
  '',
].join('\n');
console.log(md);

// Only a full run (all kernels, default sizes) replaces the committed results.
if (ONLY.length > 0 || args.includes('--sizes')) {
  console.error('partial run: results/tensor-core.{json,md} left unchanged');
  process.exit(0);
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'tensor-core.json'),
  JSON.stringify(
    { benchmark: 'tensor-core', date: new Date().toISOString(), node: process.version, cpus: cpus().length, seconds: (Date.now() - started) / 1000, rows },
    null,
    2,
  ) + '\n',
);
writeFileSync(join(dir, 'tensor-core.md'), md);
