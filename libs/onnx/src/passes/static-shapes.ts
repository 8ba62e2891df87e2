import { getAttr, attrInt } from '../graph';
import { int64, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../proto/types';
import { tensorDims } from '../tensors';

/** A tensor's dims where known: a number per static dim, undefined for a symbolic or unknown one. */
export type StaticDims = (number | undefined)[];

// Ops whose output has the shape of input 0.
const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Identity', 'Neg', 'Abs', 'Gelu', 'Mish', 'Erf', 'Celu',
  'ThresholdedRelu', 'Dropout', 'Clip', 'BatchNormalization', 'LRN', 'InstanceNormalization', 'Softmax', 'LogSoftmax', 'Cast', 'Sqrt', 'Exp', 'Log', 'Reciprocal',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'PRelu', 'Pow', 'Max', 'Min', 'Sum']);
const POOL = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOL = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);

function declaredDims(v: ValueInfoProto): StaticDims | undefined {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return undefined;
  // Decoded messages carry defaults on their prototype (dimValue 0 for a dim_param): only own properties were on the wire.
  return shape.dim.map((d) => (Object.prototype.hasOwnProperty.call(d, 'dimValue') ? int64(d.dimValue) : undefined));
}

/**
 * Static shapes of the main graph's tensors: the declared ones (inputs, value_info, outputs, initializers) and,
 * where none is declared, a small propagation through the ops structured pruning walks (Conv, pooling,
 * elementwise with broadcasting, activations, BatchNormalization). Not a full ONNX shape inference: a tensor it
 * cannot work out is simply absent.
 */
export function staticShapes(graph: GraphProto): Map<string, StaticDims> {
  const shapes = new Map<string, StaticDims>();
  for (const t of graph.initializer) shapes.set(t.name ?? '', tensorDims(t));
  for (const v of [...graph.input, ...graph.valueInfo, ...graph.output]) {
    const d = declaredDims(v);
    if (d && !shapes.has(v.name ?? '')) shapes.set(v.name ?? '', d);
  }
  for (const node of graph.node) {
    const constant = constantValue(node);
    if (constant && node.output[0]) shapes.set(node.output[0], tensorDims(constant));
    const out = node.output[0];
    if (!out || shapes.has(out) || (node.domain ?? '') !== '') continue;
    const d = outputDims(node, shapes);
    if (d) shapes.set(out, d);
  }
  return shapes;
}

function constantValue(node: NodeProto): TensorProto | undefined {
  return node.opType === 'Constant' && (node.domain ?? '') === '' ? getAttr(node, 'value')?.t : undefined;
}

function ints(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name);
  return a ? a.ints.map((v) => int64(v)) : undefined;
}

function autoPad(node: NodeProto): string {
  const s = getAttr(node, 'auto_pad')?.s;
  return s ? String.fromCharCode(...s) : 'NOTSET';
}

function outputDims(node: NodeProto, shapes: Map<string, StaticDims>): StaticDims | undefined {
  const op = node.opType ?? '';
  const x = shapes.get(node.input[0] ?? '');
  if (!x) return undefined;
  if (SAME_SHAPE.has(op)) return x;
  if (BROADCAST.has(op)) return node.input.slice(1).reduce<StaticDims | undefined>((a, n) => (a ? broadcast(a, shapes.get(n)) : undefined), x);
  if (GLOBAL_POOL.has(op)) return x.map((d, i) => (i < 2 ? d : 1));
  if (op === 'Conv') {
    const w = shapes.get(node.input[1] ?? '');
    if (!w || w.length !== x.length) return undefined;
    const kernel = ints(node, 'kernel_shape') ?? w.slice(2);
    return kernel.every((k) => k !== undefined) ? window(node, x, w[0], kernel as number[], false) : undefined;
  }
  if (POOL.has(op)) {
    const kernel = ints(node, 'kernel_shape');
    return kernel ? window(node, x, x[1], kernel, attrInt(node, 'ceil_mode', 0) === 1) : undefined;
  }
  return undefined;
}

/** Numpy broadcasting of two static shapes; undefined where it cannot be decided. */
function broadcast(a: StaticDims, b: StaticDims | undefined): StaticDims | undefined {
  if (!b) return undefined;
  const n = Math.max(a.length, b.length);
  const out: StaticDims = [];
  for (let i = 0; i < n; i++) {
    const p = i < n - a.length ? 1 : a[i - (n - a.length)];
    const q = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (p === 1) out.push(q);
    else if (q === 1 || p === q) out.push(p);
    // One side unknown: it is either 1 or the other side's size; the output has the known size.
    else if (p === undefined || q === undefined) out.push(p ?? q);
    else return undefined;
  }
  return out;
}

/** Output dims of a sliding window (Conv or pooling) over NC + spatial dims. */
function window(node: NodeProto, x: StaticDims, channels: number | undefined, kernel: number[], ceil: boolean): StaticDims | undefined {
  const spatial = x.slice(2);
  if (kernel.length !== spatial.length) return undefined;
  const strides = ints(node, 'strides') ?? kernel.map(() => 1);
  const dilations = ints(node, 'dilations') ?? kernel.map(() => 1);
  const pads = ints(node, 'pads') ?? kernel.flatMap(() => [0, 0]);
  const mode = autoPad(node);
  const out = spatial.map((d, i) => {
    if (d === undefined) return undefined;
    const s = strides[i]!;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(d / s);
    const padded = mode === 'VALID' ? d : d + pads[i]! + pads[i + kernel.length]!;
    const q = (padded - span) / s;
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  });
  return [x[0], channels, ...out];
}
