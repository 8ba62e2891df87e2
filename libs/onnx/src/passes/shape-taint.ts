import { allGraphs, constantTensor } from '../graph';
import type { ModelProto } from '../proto/types';

/**
 * Tensors computed from tensor shapes: outputs of Shape and Size, and of every node whose inputs are all such
 * tensors or constants. Float values among them (a Shape cast to float, scaled, cast back) are shape arithmetic
 * and must stay float32: float16 holds integers exactly only up to 2048.
 */
export function shapeArithmetic(model: ModelProto): Set<string> {
  const tainted = new Set<string>();
  const constants = new Set<string>();
  for (const { graph } of allGraphs(model.graph!)) {
    for (const t of graph.initializer) constants.add(t.name ?? '');
    for (const node of graph.node) {
      const op = node.opType ?? '';
      if (op === 'Constant' || constantTensor(node)) {
        for (const o of node.output) constants.add(o);
        continue;
      }
      if (op === 'Shape' || op === 'Size') {
        for (const o of node.output) tainted.add(o);
        continue;
      }
      const inputs = node.input.filter((x) => x);
      if (inputs.length > 0 && inputs.some((x) => tainted.has(x)) && inputs.every((x) => tainted.has(x) || constants.has(x))) {
        for (const o of node.output) tainted.add(o);
      }
    }
  }
  return tainted;
}
