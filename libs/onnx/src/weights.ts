import { allGraphs, constantTensor, usesByName, type GraphScope, type Use } from './graph';
import { int64, type ModelProto, type NodeProto, type TensorProto } from './proto/types';
import { elementCount, tensorByteSize } from './tensors';

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
