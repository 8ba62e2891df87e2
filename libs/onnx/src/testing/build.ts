// Small ONNX graphs for tests, in this package and in the apps' tests (`@lepton/onnx/testing`): seeded weights,
// graph/model builders and a few one-op models. Not part of the library's barrel.
import { encodeModel, intAttr, makeNode, makeTensor, makeValueInfo, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../index';

/** Deterministic pseudo-random floats in [-scale, scale) (xorshift32), so tests are reproducible. */
export function randomFloats(n: number, seed = 1, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

export const f32 = (name: string, dims: number[], data: Float32Array): TensorProto => makeTensor(name, 1, dims, data);
export const i64 = (name: string, values: number[]): TensorProto => makeTensor(name, 7, [values.length], BigInt64Array.from(values.map(BigInt)));

export function graph(nodes: NodeProto[], inputs: [string, number, (number | string)[]][], outputs: [string, number, (number | string)[]?][], initializer: TensorProto[] = [], name = 'g'): GraphProto {
  return {
    node: nodes,
    name,
    initializer,
    sparseInitializer: [],
    input: inputs.map(([n, t, d]) => makeValueInfo(n, t, d)),
    output: outputs.map(([n, t, d]) => makeValueInfo(n, t, d)),
    valueInfo: [],
    quantizationAnnotation: [],
    metadataProps: [],
  };
}

export function model(g: GraphProto, opset = 17, irVersion = 8): ModelProto {
  return {
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'lepton-test',
    graph: g,
    metadataProps: [],
    trainingInfo: [],
    functions: [],
  };
}

export const node = (op: string, inputs: string[], outputs: string[], attrs: AttributeProto[] = []): NodeProto => makeNode(op, inputs, outputs, `${op}_${outputs[0]}`, attrs);
export const ints = (name: string, values: number[]): AttributeProto => ({ name, type: 7, ints: values, floats: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] });
export const graphAttr = (name: string, g: GraphProto): AttributeProto => ({ name, type: 5, g, ints: [], floats: [], strings: [], tensors: [], graphs: [], sparseTensors: [], typeProtos: [] });
export { intAttr };

export function bytes(m: ModelProto): Uint8Array {
  return encodeModel(m);
}

/** Conv [N,Cin,H,W] with weight [Cout,Cin,k,k] and bias. */
export function convModel(cin: number, cout: number, k: number, hw: number): Uint8Array {
  const w = f32('W', [cout, cin, k, k], randomFloats(cout * cin * k * k, 3, 0.5));
  const b = f32('B', [cout], randomFloats(cout, 4, 0.1));
  return bytes(model(graph([node('Conv', ['X', 'W', 'B'], ['Y'], [ints('pads', [1, 1, 1, 1])])], [['X', 1, [1, cin, hw, hw]]], [['Y', 1, [1, cout, hw + 3 - k, hw + 3 - k]]], [w, b])));
}

/** ConvTranspose [1,Cin,H,W] with weight [Cin,Cout,k,k] and bias. */
export function convTransposeModel(cin: number, cout: number, k: number, hw: number): Uint8Array {
  const w = f32('W', [cin, cout, k, k], randomFloats(cin * cout * k * k, 5, 0.5));
  const b = f32('B', [cout], randomFloats(cout, 6, 0.1));
  return bytes(model(graph([node('ConvTranspose', ['X', 'W', 'B'], ['Y'])], [['X', 1, [1, cin, hw, hw]]], [['Y', 1, [1, cout, hw + k - 1, hw + k - 1]]], [w, b])));
}

/** Gemm Y = X [M,K] * B (transB 0: [K,N]; 1: [N,K]) + C [N]. */
export function gemmModel(m: number, k: number, n: number, transB: 0 | 1): Uint8Array {
  const b = f32('B', transB ? [n, k] : [k, n], randomFloats(k * n, 7, 0.5));
  const c = f32('C', [n], randomFloats(n, 8, 0.1));
  return bytes(model(graph([node('Gemm', ['X', 'B', 'C'], ['Y'], [intAttr('transB', transB)])], [['X', 1, [m, k]]], [['Y', 1, [m, n]]], [b, c])));
}

export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const b = f32('B', [k, n], randomFloats(k * n, 9, 0.5));
  return bytes(model(graph([node('MatMul', ['X', 'B'], ['Y'])], [['X', 1, [m, k]]], [['Y', 1, [m, n]]], [b])));
}
