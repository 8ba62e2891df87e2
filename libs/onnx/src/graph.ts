import { AttrType, OnnxType, int64, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto/types';
import { makeTensor } from './tensors';

/** A graph and where it sits: "main", or the path of nodes and attributes leading to a subgraph. */
export interface GraphScope {
  graph: GraphProto;
  path: string;
  /** The node owning this subgraph (undefined for the main graph). */
  owner?: NodeProto;
  parent?: GraphScope;
}

/** The main graph and every subgraph of If/Loop/Scan (any graph-valued attribute), parents before children. */
export function allGraphs(main: GraphProto): GraphScope[] {
  const out: GraphScope[] = [];
  const visit = (scope: GraphScope): void => {
    out.push(scope);
    for (const node of scope.graph.node) {
      for (const attr of node.attribute ?? []) {
        for (const g of attrGraphs(attr)) {
          visit({ graph: g, path: `${scope.path}/${node.name || node.opType}.${attr.name}`, owner: node, parent: scope });
        }
      }
    }
  };
  visit({ graph: main, path: 'main' });
  return out;
}

export function attrGraphs(attr: AttributeProto): GraphProto[] {
  const out: GraphProto[] = [];
  if (attr.g) out.push(attr.g);
  for (const g of attr.graphs ?? []) out.push(g);
  return out;
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = getAttr(node, name);
  return a && a.i !== undefined ? int64(a.i) : fallback;
}

export function intAttr(name: string, value: number): AttributeProto {
  return { ...emptyAttr(name), type: AttrType.INT, i: value };
}

export function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return { ...emptyAttr(name), type: AttrType.TENSOR, t };
}

function emptyAttr(name: string): AttributeProto {
  return { name, floats: [], ints: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] };
}

export function makeNode(opType: string, inputs: string[], outputs: string[], name: string, attrs: AttributeProto[] = []): NodeProto {
  return { opType, input: inputs, output: outputs, name, domain: '', attribute: attrs, metadataProps: [] };
}

export function makeValueInfo(name: string, elemType: number, dims?: (number | string)[]): ValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return { name, type: { tensorType: shape ? { elemType, shape } : { elemType } }, metadataProps: [] };
}

/**
 * A Constant node's tensor: its `value` attribute, or a float32 tensor made from `value_float` (rank 0) or
 * `value_floats` (1-D), the spellings some exporters use for scalars and small vectors. Passes work on models whose
 * float attributes were first lifted to `value` (liftConstantFloats), so the tensor they rewrite is the node's own.
 */
export function constantTensor(node: NodeProto): TensorProto | undefined {
  if (node.opType !== 'Constant' || (node.domain ?? '') !== '') return undefined;
  const value = getAttr(node, 'value')?.t;
  if (value) return value;
  const one = getAttr(node, 'value_float');
  if (one && one.type === AttrType.FLOAT) return floatTensor([], Float32Array.of(one.f ?? 0));
  const many = getAttr(node, 'value_floats');
  if (many && many.type === AttrType.FLOATS) return floatTensor([many.floats.length], Float32Array.from(many.floats));
  return undefined;
}

/**
 * Rewrite every Constant `value_float` / `value_floats` (all graphs) as the equivalent `value` tensor. Without this
 * a weight or a large constant spelled that way is invisible to the passes: int8 left it float32 without a word,
 * and fp16 let a Cast turn value_float 1e6 into Infinity at run time instead of clamping it.
 */
export function liftConstantFloats(main: GraphProto): number {
  let lifted = 0;
  for (const { graph } of allGraphs(main)) {
    for (const node of graph.node) {
      if (node.opType !== 'Constant' || (node.domain ?? '') !== '' || getAttr(node, 'value')) continue;
      const t = constantTensor(node);
      if (!t) continue;
      node.attribute = [tensorAttr('value', t), ...node.attribute.filter((a) => a.name !== 'value_float' && a.name !== 'value_floats')];
      lifted++;
    }
  }
  return lifted;
}

/** A float32 tensor without a name (a Constant's value), built as every other tensor is (makeTensor). */
function floatTensor(dims: number[], data: Float32Array): TensorProto {
  const { name: _name, ...t } = makeTensor('', OnnxType.FLOAT, dims, data);
  return t;
}

/** Every tensor name used anywhere in the model, to make fresh names that never collide. */
export class NameScope {
  private readonly used = new Set<string>();

  constructor(main: GraphProto) {
    for (const { graph } of allGraphs(main)) {
      for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.used.add(v.name ?? '');
      for (const t of graph.initializer) this.used.add(t.name ?? '');
      for (const n of graph.node) {
        for (const x of [...n.input, ...n.output]) this.used.add(x);
        if (n.name) this.used.add(n.name);
      }
    }
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Where a tensor is consumed: the node, which input, and the graph the node is in. */
export interface Use {
  node: NodeProto;
  input: number;
  scope: GraphScope;
}

/**
 * Consumers of each tensor name, over the main graph and its subgraphs (a subgraph may read an outer tensor by
 * name). A name defined again inside a subgraph shadows the outer one there; such reuse is rare and the
 * consumers are still listed, which only makes the passes more conservative.
 */
export function usesByName(main: GraphProto): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  for (const scope of allGraphs(main)) {
    for (const node of scope.graph.node) {
      node.input.forEach((name, input) => {
        if (!name) return;
        let list = uses.get(name);
        if (!list) uses.set(name, (list = []));
        list.push({ node, input, scope });
      });
    }
  }
  return uses;
}

/** Names of the graph outputs, over all graphs (a weight that is also an output must keep its value). */
export function outputNames(main: GraphProto): Set<string> {
  const out = new Set<string>();
  for (const { graph } of allGraphs(main)) for (const o of graph.output) out.add(o.name ?? '');
  return out;
}
