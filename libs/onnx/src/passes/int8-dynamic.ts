import { NameScope, attrInt, getAttr, intAttr, makeNode, type GraphScope } from '../graph';
import { OnnxType, type AttributeProto, type NodeProto } from '../proto/types';
import { makeTensor, readFloat32, tensorDims } from '../tensors';
import { findWeights, reshapedWeights, type WeightRef } from '../weights';
import { defaultOpset, requireOpset } from '../opset';
import { dropUnused, finish, stampPass, workingCopy, type ModelInput, type PassResult } from './common';
import { quantizeWeight } from './weight-quant';

export interface Int8DynamicOptions {
  /** Op types to rewrite (default MatMul, Gemm, Conv). */
  ops?: ('MatMul' | 'Gemm' | 'Conv')[];
  /** One weight scale per output column of MatMul/Gemm (default true). Conv always uses one scale. */
  perChannel?: boolean;
  /**
   * 7-bit int8 weights for MatMul/Gemm (default true). Activations are uint8 (DynamicQuantizeLinear only makes
   * uint8), so the integer GEMM is uint8 x int8; on x86 CPUs with AVX2 but no VNNI that kernel adds pairs of
   * products in int16 and saturates (A=[210,198,234], W=[-81,-80,127] gives -3050 instead of -3132). With weights
   * in [-64, 64] a pair stays within 2 * 255 * 64 = 32640, so the result is exact on every CPU. The model may be
   * deployed on a CPU we cannot see, so safe is the default; pass false to get the eighth bit back.
   */
  reduceRange?: boolean;
  /** Node names left in float32. */
  excludeNodes?: string[];
}

export interface Int8DynamicReport {
  pass: 'int8-dynamic';
  options: Required<Int8DynamicOptions>;
  opsetBefore: number;
  opsetAfter: number;
  rewritten: { node: string; op: string; pattern: string; weight: string; scales: number }[];
  skipped: { node: string; op: string; reason: string }[];
}

/**
 * Dynamic quantization: activations are quantized at run time (DynamicQuantizeLinear, uint8, one scale and zero
 * point per tensor), weights ahead of time. MatMul/Gemm become MatMulInteger (uint8 x int8) and Conv becomes
 * ConvInteger with uint8 weights: onnxruntime's CPU and WASM kernels implement ConvInteger only for uint8 x uint8,
 * and MatMulInteger's a_zero_point is always the scalar from DynamicQuantizeLinear, never per row.
 */
export function quantizeDynamic(input: ModelInput, options: Int8DynamicOptions = {}): PassResult<Int8DynamicReport> {
  const model = workingCopy(input);
  const opts: Required<Int8DynamicOptions> = {
    ops: options.ops ?? ['MatMul', 'Gemm', 'Conv'],
    perChannel: options.perChannel ?? true,
    reduceRange: options.reduceRange ?? true,
    excludeNodes: options.excludeNodes ?? [],
  };
  const report: Int8DynamicReport = { pass: 'int8-dynamic', options: opts, opsetBefore: defaultOpset(model), opsetAfter: 0, rewritten: [], skipped: [] };
  const weights = new Map<string, WeightRef>();
  for (const w of findWeights(model)) if (w.tensor.dataType === OnnxType.FLOAT && !w.overridable) weights.set(w.name, w);
  const names = new NameScope(model.graph!);
  const plan: { node: NodeProto; scope: GraphScope; w: WeightRef; bias?: WeightRef }[] = [];
  const scopes = new Set<GraphScope>();
  for (const w of weights.values()) scopes.add(w.scope);
  const ops = new Set<string>(opts.ops);
  const excluded = new Set(opts.excludeNodes);
  for (const w of [...weights.values(), ...reshapedWeights(model, weights)]) {
    for (const use of w.uses) {
      const node = use.node;
      const op = node.opType ?? '';
      if ((node.domain ?? '') !== '' || !ops.has(op) || use.input !== 1) continue;
      const label = node.name || node.output[0] || op;
      if (excluded.has(node.name ?? '')) {
        report.skipped.push({ node: label, op, reason: 'excluded by option' });
        continue;
      }
      const why = unsupported(node, w, weights);
      if (why) {
        report.skipped.push({ node: label, op, reason: why });
        continue;
      }
      const bias = node.input[2] ? weights.get(node.input[2]) : undefined;
      plan.push({ node, scope: use.scope, w, ...(bias ? { bias } : {}) });
    }
  }
  if (plan.length > 0) requireOpset(model, opts.perChannel ? 13 : 11, 'DynamicQuantizeLinear + MatMulInteger');
  for (const p of plan) {
    const nodes = p.node.opType === 'Conv' ? convPattern(p, names) : gemmPattern(p, names, opts);
    const list = p.scope.graph.node;
    list.splice(list.indexOf(p.node), 1, ...nodes.nodes);
    report.rewritten.push({ node: p.node.name || p.node.output[0]!, op: p.node.opType!, pattern: nodes.pattern, weight: p.w.name, scales: nodes.scales });
  }
  dropUnused(model, plan.flatMap((p) => (p.bias ? [p.w, p.bias] : [p.w])));
  report.opsetAfter = defaultOpset(model);
  stampPass(model, 'int8-dynamic', opts);
  return finish(model, report);
}

function unsupported(node: NodeProto, w: WeightRef, weights: Map<string, WeightRef>): string | undefined {
  const op = node.opType;
  const dims = tensorDims(w.tensor);
  if (op === 'MatMul' && dims.length !== 2) return `weight has rank ${dims.length}; MatMulInteger weights are quantized as 2-D [K, N]`;
  if (op === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0) return 'transA = 1';
    if (node.input[2] && !weights.has(node.input[2])) return 'C is not a constant';
  }
  if (op === 'Conv') {
    if (node.input[2] && !weights.has(node.input[2])) return 'bias is not a constant';
  }
  return undefined;
}

type Built = { nodes: NodeProto[]; pattern: string; scales: number };

function constInit(scope: GraphScope, names: NameScope, base: string, type: number, dims: number[], data: ArrayBufferView): string {
  const name = names.fresh(base);
  scope.graph.initializer.push(makeTensor(name, type, dims, data));
  return name;
}

function gemmPattern(p: { node: NodeProto; scope: GraphScope; w: WeightRef; bias?: WeightRef }, names: NameScope, opts: Required<Int8DynamicOptions>): Built {
  const { node, scope, w } = p;
  const isGemm = node.opType === 'Gemm';
  let b = readFloat32(w.tensor);
  let dims = tensorDims(w.tensor);
  if (isGemm && attrInt(node, 'transB', 0)) {
    // MatMulInteger has no transpose: store B as [K, N].
    const [n, k] = dims as [number, number];
    const t = new Float32Array(b.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = b[i * k + j]!;
    b = t;
    dims = [k, n];
  }
  const q = quantizeWeight(b, dims, { dtype: 'int8', axis: opts.perChannel ? 1 : undefined, reduceRange: opts.reduceRange });
  const alpha = isGemm ? (getAttr(node, 'alpha')?.f ?? 1) : 1;
  const scale = q.scale.map((s) => Math.fround(s * alpha));
  const base = node.name || node.output[0]!;
  const bq = constInit(scope, names, `${w.name}_quantized`, OnnxType.INT8, dims, q.data);
  const bzp = constInit(scope, names, `${w.name}_zero_point`, OnnxType.INT8, [], new Int8Array(1));
  const bs = constInit(scope, names, `${w.name}_scale`, OnnxType.FLOAT, q.axis === undefined ? [] : [scale.length], scale);
  const [aq, as, azp, yi, yf, s, y] = ['a_quantized', 'a_scale', 'a_zero_point', 'int32', 'float', 'scale', 'scaled'].map((k) => names.fresh(`${base}_${k}`)) as string[];
  const out = node.output[0]!;
  const hasC = isGemm && node.input[2];
  const nodes = [
    makeNode('DynamicQuantizeLinear', [node.input[0]!], [aq!, as!, azp!], names.fresh(`${base}_DynamicQuantizeLinear`)),
    makeNode('MatMulInteger', [aq!, bq, azp!, bzp], [yi!], names.fresh(`${base}_MatMulInteger`)),
    makeNode('Cast', [yi!], [yf!], names.fresh(`${base}_Cast`), [intAttr('to', OnnxType.FLOAT)]),
    makeNode('Mul', [as!, bs], [s!], names.fresh(`${base}_ScaleMul`)),
    makeNode('Mul', [yf!, s!], [hasC ? y! : out], names.fresh(`${base}_Mul`)),
  ];
  if (hasC) {
    const beta = getAttr(node, 'beta')?.f ?? 1;
    const c = readFloat32(p.bias!.tensor).map((v) => Math.fround(v * beta));
    const cName = constInit(scope, names, `${p.bias!.name}_scaled`, OnnxType.FLOAT, tensorDims(p.bias!.tensor), c);
    nodes.push(makeNode('Add', [y!, cName], [out], names.fresh(`${base}_Add`)));
  }
  return { nodes, pattern: 'DynamicQuantizeLinear + MatMulInteger(u8 x s8)', scales: q.scale.length };
}

function convPattern(p: { node: NodeProto; scope: GraphScope; w: WeightRef; bias?: WeightRef }, names: NameScope): Built {
  const { node, scope, w } = p;
  const dims = tensorDims(w.tensor);
  const q = quantizeWeight(readFloat32(w.tensor), dims, { dtype: 'uint8' });
  const base = node.name || node.output[0]!;
  const wq = constInit(scope, names, `${w.name}_quantized`, OnnxType.UINT8, dims, q.data);
  const wzp = constInit(scope, names, `${w.name}_zero_point`, OnnxType.UINT8, [], q.zeroPoint);
  const ws = constInit(scope, names, `${w.name}_scale`, OnnxType.FLOAT, [], q.scale);
  const [xq, xs, xzp, yi, yf, s, y] = ['x_quantized', 'x_scale', 'x_zero_point', 'int32', 'float', 'scale', 'scaled'].map((k) => names.fresh(`${base}_${k}`)) as string[];
  const out = node.output[0]!;
  const attrs: AttributeProto[] = node.attribute.filter((a) => ['dilations', 'group', 'kernel_shape', 'pads', 'strides', 'auto_pad'].includes(a.name ?? ''));
  const nodes = [
    makeNode('DynamicQuantizeLinear', [node.input[0]!], [xq!, xs!, xzp!], names.fresh(`${base}_DynamicQuantizeLinear`)),
    makeNode('ConvInteger', [xq!, wq, xzp!, wzp], [yi!], names.fresh(`${base}_ConvInteger`), attrs),
    makeNode('Cast', [yi!], [yf!], names.fresh(`${base}_Cast`), [intAttr('to', OnnxType.FLOAT)]),
    makeNode('Mul', [xs!, ws], [s!], names.fresh(`${base}_ScaleMul`)),
    makeNode('Mul', [yf!, s!], [p.bias ? y! : out], names.fresh(`${base}_Mul`)),
  ];
  if (p.bias) {
    // Bias [C] broadcast over [N, C, spatial...]: stored as [C, 1, ...] with one 1 per spatial dim.
    const c = readFloat32(p.bias.tensor);
    const shape = [c.length, ...dims.slice(2).map(() => 1)];
    const bName = constInit(scope, names, `${p.bias.name}_reshaped`, OnnxType.FLOAT, shape, Float32Array.from(c));
    nodes.push(makeNode('Add', [y!, bName], [out], names.fresh(`${base}_Add`)));
  }
  return { nodes, pattern: 'DynamicQuantizeLinear + ConvInteger(u8 x u8)', scales: 1 };
}
