import { allGraphs, attrGraphs, getAttr, attrInt, type GraphScope } from './graph';
import { OnnxType, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from './proto/types';

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);

function valueType(v: ValueInfoProto): number | undefined {
  return v.type?.tensorType?.elemType;
}

/**
 * Element type of every tensor name in the model, subgraphs included: declared types (inputs, outputs,
 * value_info, initializers, Constant values) and, for the rest, a small rule per op (an output has the type of
 * the op's first typed input unless the op says otherwise). Enough to know which tensors are float; not a full
 * ONNX type inference.
 */
export function inferElemTypes(model: ModelProto): Map<string, number> {
  const types = new Map<string, number>();
  visitGraph(model.graph!, types);
  return types;
}

function declare(graph: GraphProto, types: Map<string, number>): void {
  for (const v of [...graph.input, ...graph.valueInfo]) {
    const t = valueType(v);
    if (t) types.set(v.name ?? '', t);
  }
  for (const t of graph.initializer) if (t.dataType) types.set(t.name ?? '', t.dataType);
}

function visitGraph(graph: GraphProto, types: Map<string, number>): void {
  declare(graph, types);
  for (const node of graph.node) {
    for (const attr of node.attribute ?? []) for (const g of attrGraphs(attr)) visitGraph(g, types);
    const outs = outputTypes(node, types);
    node.output.forEach((name, i) => {
      if (name && !types.has(name) && outs[i] !== undefined) types.set(name, outs[i]!);
    });
  }
  for (const v of graph.output) {
    const t = valueType(v);
    if (t && !types.has(v.name ?? '')) types.set(v.name ?? '', t);
  }
}

function outputTypes(node: NodeProto, types: Map<string, number>): (number | undefined)[] {
  const op = node.opType ?? '';
  const input = (i: number): number | undefined => (node.input[i] ? types.get(node.input[i]!) : undefined);
  const firstTyped = node.input.map((n) => (n ? types.get(n) : undefined)).find((t) => t !== undefined);
  if ((node.domain ?? '') !== '') return [];
  switch (op) {
    case 'Constant':
      return [getAttr(node, 'value')?.t?.dataType ?? (getAttr(node, 'value_float') || getAttr(node, 'value_floats') ? OnnxType.FLOAT : OnnxType.INT64)];
    case 'Cast':
      return [attrInt(node, 'to', OnnxType.FLOAT)];
    case 'CastLike':
      return [input(1)];
    case 'ConstantOfShape':
      return [getAttr(node, 'value')?.t?.dataType ?? OnnxType.FLOAT];
    case 'EyeLike':
    case 'RandomNormal':
    case 'RandomUniform':
    case 'RandomNormalLike':
    case 'RandomUniformLike':
      return [attrInt(node, 'dtype', op.endsWith('Like') ? (firstTyped ?? OnnxType.FLOAT) : OnnxType.FLOAT)];
    case 'DequantizeLinear':
      return [input(1) ?? OnnxType.FLOAT];
    case 'QuantizeLinear':
      return [input(2) ?? OnnxType.UINT8];
    case 'DynamicQuantizeLinear':
      return [OnnxType.UINT8, OnnxType.FLOAT, OnnxType.UINT8];
    case 'MatMulInteger':
    case 'ConvInteger':
      return [OnnxType.INT32];
    case 'TopK':
    case 'MaxPool':
      return [firstTyped, OnnxType.INT64];
    case 'Where':
      return [input(1)];
    case 'OneHot':
      return [input(2)];
    case 'If': {
      const g = getAttr(node, 'then_branch')?.g;
      return g ? g.output.map((o) => types.get(o.name ?? '') ?? valueType(o)) : [];
    }
    case 'Loop':
    case 'Scan': {
      const g = getAttr(node, 'body')?.g;
      if (!g) return [];
      const outs = g.output.map((o) => types.get(o.name ?? '') ?? valueType(o));
      return op === 'Loop' ? outs.slice(1) : outs;
    }
  }
  if (BOOL_OPS.has(op)) return [OnnxType.BOOL];
  if (INT64_OPS.has(op)) return [OnnxType.INT64];
  return node.output.map(() => firstTyped);
}

/** Graph scopes by graph object, for passes that walk nodes and need the scope of each graph. */
export function scopesByGraph(model: ModelProto): Map<GraphProto, GraphScope> {
  return new Map(allGraphs(model.graph!).map((s) => [s.graph, s]));
}
