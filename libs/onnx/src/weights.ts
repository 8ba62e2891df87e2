import { allGraphs, constantTensor, usesByName, type GraphScope, type Use } from './graph';
import { int64, type ModelProto, type NodeProto, type TensorProto } from './proto/types';
import { elementCount, readIntegers, tensorByteSize, tensorDims } from './tensors';

export type WeightLocation = 'initializer' | 'constant';

/** A constant tensor of the model: an initializer or a Constant node's value, in any graph. */
export interface WeightRef {
  name: string;
  tensor: TensorProto;
  location: WeightLocation;
  scope: GraphScope;
  /** The Constant node holding it (location 'constant'). */
  node?: NodeProto;
  uses: Use[];
  /** An initializer also listed as a graph input (IR >= 4): callers may override it, so it is not a constant. */
  overridable: boolean;
  elements: number;
  bytes: number;
  /** Set on a weight seen through a constant Reshape: the tensor it was reshaped from. */
  reshapedFrom?: string;
}

/** Every initializer and Constant-node tensor, subgraphs included, with its consumers. */
export function findWeights(model: ModelProto): WeightRef[] {
  const main = model.graph!;
  const uses = usesByName(main);
  const ir = int64(model.irVersion);
  const out: WeightRef[] = [];
  for (const scope of allGraphs(main)) {
    const inputs = new Set(scope.graph.input.map((v) => v.name ?? ''));
    for (const tensor of scope.graph.initializer) {
      const name = tensor.name ?? '';
      out.push({
        name,
        tensor,
        location: 'initializer',
        scope,
        uses: uses.get(name) ?? [],
        // Before IR 4 every initializer had to be listed as an input too; only later does listing mean "overridable".
        overridable: ir >= 4 && inputs.has(name),
        elements: elementCount(tensor),
        bytes: tensorByteSize(tensor),
      });
    }
    for (const node of scope.graph.node) {
      const tensor = constantTensor(node);
      if (!tensor) continue;
      const name = node.output[0] ?? '';
      out.push({
        name,
        tensor,
        location: 'constant',
        scope,
        node,
        uses: uses.get(name) ?? [],
        overridable: false,
        elements: elementCount(tensor),
        bytes: tensorByteSize(tensor),
      });
    }
  }
  return out;
}

/**
 * Weights reshaped by a Reshape whose shape is constant too (older exporters store MatMul weights as 4-D and
 * reshape them in the graph): each such Reshape output is returned as a weight of its own, with the reshaped dims
 * and the Reshape's consumers. The original tensor is left alone; a pass that rewrites the consumers replaces it.
 */
export function reshapedWeights(model: ModelProto, weights: Map<string, WeightRef>): WeightRef[] {
  const uses = usesByName(model.graph!);
  const all = new Map(findWeights(model).map((w) => [w.name, w]));
  const out: WeightRef[] = [];
  for (const w of weights.values()) {
    for (const use of w.uses) {
      const node = use.node;
      if (node.opType !== 'Reshape' || use.input !== 0 || (node.domain ?? '') !== '') continue;
      const shapeRef = all.get(node.input[1] ?? '');
      if (!shapeRef || shapeRef.tensor.dataType !== 7) continue;
      const shape = readIntegers(shapeRef.tensor);
      const dims = resolveShape(tensorDims(w.tensor), shape);
      if (!dims) continue;
      const name = node.output[0] ?? '';
      const tensor: TensorProto = { ...w.tensor, dims, name };
      out.push({ ...w, name, tensor, uses: uses.get(name) ?? [], location: w.location, reshapedFrom: w.name });
    }
  }
  return out;
}

/** Reshape's output shape (0 copies the input dim, -1 is inferred), or undefined when it does not fit. */
function resolveShape(input: number[], shape: number[]): number[] | undefined {
  const count = input.reduce((a, b) => a * b, 1);
  const dims = shape.map((d, i) => (d === 0 ? input[i]! : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const minus = dims.filter((d) => d === -1).length;
  if (minus > 1 || known === 0) return undefined;
  const filled = dims.map((d) => (d === -1 ? count / known : d));
  return filled.reduce((a, b) => a * b, 1) === count && filled.every(Number.isInteger) ? filled : undefined;
}
