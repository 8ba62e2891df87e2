import { NameScope, allGraphs, attrInt, getAttr, makeNode, intAttr, tensorAttr, usesByName } from '../graph';
import { inferElemTypes } from '../infer-types';
import { OnnxType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../proto/types';
import { makeTensor, tensorByteSize, tensorDims } from '../tensors';
import { findWeights, type WeightRef } from '../weights';
import { finish, stampPass, workingCopy, type ModelInput, type PassResult } from './common';
import { tensorToFloat16, type ClampCounts } from './fp16-values';
import { shapeArithmetic } from './shape-taint';

/** Ops kept in float32 by default: no float16 kernels on common runtimes, or precision-critical. */
export const DEFAULT_FP16_BLOCK_LIST = [
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer',
  'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike', 'SVMClassifier',
  'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK',
  'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample',
];

/** Ops that are always float32 boundaries: quantization ops have float32 scales; control flow is converted inside. */
const ALWAYS_FP32 = new Set(['DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeLinear', 'If', 'Loop', 'Scan', 'Range']);
/** Ops that make a float tensor from attributes; their output is float32 unless rewritten. */
const GENERATORS = new Set(['EyeLike', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Constant']);

export interface Fp16Options {
  /** Keep the model's float32 inputs and outputs float32, with Casts inside (default true). */
  keepIoTypes?: boolean;
  /** Op types kept in float32 (default DEFAULT_FP16_BLOCK_LIST). */
  opBlockList?: string[];
  /** Node names kept in float32. */
  nodeBlockList?: string[];
  /** Clamp constants to float16's finite range (default true). */
  clamp?: boolean;
}

export interface Fp16Report {
  pass: 'fp16';
  options: Required<Fp16Options>;
  convertedTensors: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Constants needed in both precisions (kept in float32 and copied to float16). */
  duplicatedTensors: string[];
  clampedHigh: number;
  clampedLow: number;
  castsInserted: number;
  keptFp32Nodes: { node: string; op: string; reason: string }[];
}

type Prec = 'fp16' | 'fp32';

/**
 * float16 conversion. Each node runs in float16 or float32; a Cast is inserted wherever a tensor is produced in one
 * precision and read in the other. Constants are converted (clamped, counts reported), or copied when both
 * precisions read them. Kept in float32: ops in the block list, If/Loop/Scan boundaries (their subgraphs are
 * converted inside), shape arithmetic (anything computed from Shape/Size), Range, and inputs that are float32 by
 * definition (Resize roi/scales, Upsample scales).
 */
export function convertFloat16(input: ModelInput, options: Fp16Options = {}): PassResult<Fp16Report> {
  const model = workingCopy(input);
  const opts: Required<Fp16Options> = {
    keepIoTypes: options.keepIoTypes ?? true,
    opBlockList: options.opBlockList ?? DEFAULT_FP16_BLOCK_LIST,
    nodeBlockList: options.nodeBlockList ?? [],
    clamp: options.clamp ?? true,
  };
  const c = new Converter(model, opts);
  c.run();
  stampPass(model, 'fp16', opts);
  return finish(model, c.report);
}

class Converter {
  readonly report: Fp16Report;
  private readonly types: Map<string, number>;
  private readonly names: NameScope;
  private readonly consts = new Map<string, WeightRef>();
  private readonly prec = new Map<string, Prec>();
  private readonly fp16Inits = new Map<string, string>();
  private readonly fp16Consts = new Map<string, string>();
  private readonly building = new Map<GraphProto, NodeProto[]>();
  private readonly tainted: Set<string>;
  private readonly blockOps: Set<string>;
  private readonly blockNodes: Set<string>;
  private readonly counts: ClampCounts = { high: 0, low: 0 };

  constructor(private readonly model: ModelProto, private readonly opts: Required<Fp16Options>) {
    this.report = { pass: 'fp16', options: opts, convertedTensors: 0, bytesBefore: 0, bytesAfter: 0, duplicatedTensors: [], clampedHigh: 0, clampedLow: 0, castsInserted: 0, keptFp32Nodes: [] };
    this.types = inferElemTypes(model);
    this.names = new NameScope(model.graph!);
    for (const w of findWeights(model)) if (w.tensor.dataType === OnnxType.FLOAT && !w.overridable) this.consts.set(w.name, w);
    this.tainted = shapeArithmetic(model);
    this.blockOps = new Set(opts.opBlockList);
    this.blockNodes = new Set(opts.nodeBlockList);
  }

  run(): void {
    this.graph(this.model.graph!, true);
    this.dropUnusedOriginals();
    this.report.clampedHigh = this.counts.high;
    this.report.clampedLow = this.counts.low;
  }

  private isFloat(name: string): boolean {
    return this.types.get(name) === OnnxType.FLOAT;
  }

  private mode(node: NodeProto): { prec: Prec; reason?: string } {
    const op = node.opType ?? '';
    if ((node.domain ?? '') !== '') return { prec: 'fp32', reason: `custom domain ${node.domain}` };
    if (this.blockOps.has(op)) return { prec: 'fp32', reason: 'op block list' };
    if (node.name && this.blockNodes.has(node.name)) return { prec: 'fp32', reason: 'node block list' };
    if (ALWAYS_FP32.has(op)) return { prec: 'fp32', reason: op === 'Range' ? 'Range needs exact bounds' : 'float32 boundary' };
    if (node.output.some((o) => this.tainted.has(o) && this.isFloat(o))) return { prec: 'fp32', reason: 'shape arithmetic' };
    return { prec: 'fp16' };
  }

  private graph(graph: GraphProto, isMain: boolean): void {
    for (const v of graph.input) {
      const name = v.name ?? '';
      if (!this.isFloat(name) || (this.consts.has(name) && !isMain)) continue;
      if (isMain && !this.opts.keepIoTypes) {
        v.type!.tensorType!.elemType = OnnxType.FLOAT16;
        this.prec.set(name, 'fp16');
      } else this.prec.set(name, 'fp32');
    }
    const out: NodeProto[] = [];
    this.building.set(graph, out);
    const casts = new Map<string, string>();
    for (const node of graph.node) {
      if (node.opType === 'Constant' && this.consts.has(node.output[0] ?? '')) {
        out.push(node);
        continue;
      }
      const { prec, reason } = this.mode(node);
      if (reason && node.output.some((o) => this.isFloat(o)) && reason !== 'float32 boundary') {
        this.report.keptFp32Nodes.push({ node: node.name ?? '', op: node.opType ?? '', reason });
      }
      for (const attr of node.attribute ?? []) {
        if (attr.g) this.graph(attr.g, false);
        for (const g of attr.graphs ?? []) this.graph(g, false);
      }
      node.input.forEach((name, i) => {
        if (!name || !this.isFloat(name)) return;
        const need = fixedFloat32(node, i) ? 'fp32' : prec;
        node.input[i] = this.provide(name, need, out, casts);
      });
      this.retype(node, prec);
      out.push(node);
    }
    graph.node = out;
    this.building.delete(graph);
    this.outputs(graph, isMain);
    for (const v of graph.valueInfo) {
      if (this.isFloat(v.name ?? '') && this.prec.get(v.name ?? '') === 'fp16' && v.type?.tensorType) v.type.tensorType.elemType = OnnxType.FLOAT16;
    }
  }

  /** Set the precision of a node's float outputs, rewriting attribute-typed ops that run in float16. */
  private retype(node: NodeProto, prec: Prec): void {
    const op = node.opType ?? '';
    let outPrec: Prec = prec;
    if (prec === 'fp16' && op === 'Cast' && attrInt(node, 'to', 0) === OnnxType.FLOAT) {
      node.attribute = node.attribute.filter((a) => a.name !== 'to');
      node.attribute.push(intAttr('to', OnnxType.FLOAT16));
    } else if (op === 'ConstantOfShape') {
      const value = getAttr(node, 'value');
      if (prec === 'fp16' && value?.t && value.t.dataType === OnnxType.FLOAT) value.t = this.halfTensor(value.t, value.t.name ?? '');
      else outPrec = 'fp32';
    } else if (GENERATORS.has(op)) outPrec = 'fp32';
    for (const o of node.output) if (o && this.isFloat(o)) this.prec.set(o, outPrec);
  }

  /** The name under which `name` is available in precision `need`, adding a Cast or a float16 constant if required. */
  private provide(name: string, need: Prec, out: NodeProto[], casts: Map<string, string>): string {
    const w = this.consts.get(name);
    if (w) return need === 'fp32' ? name : this.constFp16(w);
    const have = this.prec.get(name) ?? 'fp32';
    if (have === need) return name;
    const key = `${name}\u0000${need}`;
    let cast = casts.get(key);
    if (!cast) {
      cast = this.names.fresh(`${name}_${need}`);
      out.push(makeNode('Cast', [name], [cast], this.names.fresh(`${cast}_Cast`), [intAttr('to', need === 'fp16' ? OnnxType.FLOAT16 : OnnxType.FLOAT)]));
      casts.set(key, cast);
      this.prec.set(cast, need);
      this.report.castsInserted++;
    }
    return cast;
  }

  /** float16 copy of a constant: an initializer next to the original, or a Constant node in the reading graph. */
  private constFp16(w: WeightRef): string {
    if (w.location === 'initializer') {
      let name = this.fp16Inits.get(w.name);
      if (!name) {
        name = this.names.fresh(`${w.name}_fp16`);
        w.scope.graph.initializer.push(this.halfTensor(w.tensor, name));
        this.fp16Inits.set(w.name, name);
      }
      return name;
    }
    // A Constant node is copied right after itself, in its own graph (an ancestor of, or the same as, the reader's):
    // that graph's node list is being rebuilt and already holds the original.
    let name = this.fp16Consts.get(w.name);
    if (!name) {
      name = this.names.fresh(`${w.name}_fp16`);
      const t = this.halfTensor(w.tensor, '');
      delete t.name;
      const list = this.building.get(w.scope.graph) ?? w.scope.graph.node;
      list.splice(list.indexOf(w.node!) + 1, 0, makeNode('Constant', [], [name], this.names.fresh(`${name}_Constant`), [tensorAttr('value', t)]));
      this.fp16Consts.set(w.name, name);
    }
    return name;
  }

  private halfTensor(t: TensorProto, name: string): TensorProto {
    const bits = tensorToFloat16(t, this.opts.clamp, this.counts);
    const half = makeTensor(name, OnnxType.FLOAT16, tensorDims(t), bits);
    if (t.docString) half.docString = t.docString;
    this.report.convertedTensors++;
    this.report.bytesBefore += tensorByteSize(t);
    this.report.bytesAfter += bits.byteLength;
    return half;
  }

  private outputs(graph: GraphProto, isMain: boolean): void {
    for (const v of graph.output) {
      const name = v.name ?? '';
      if (!this.isFloat(name) || this.prec.get(name) !== 'fp16') continue;
      if (isMain && !this.opts.keepIoTypes) {
        if (v.type?.tensorType) v.type.tensorType.elemType = OnnxType.FLOAT16;
        continue;
      }
      if (isMain) {
        // Output names are the model's interface: the producer writes a float16 tensor under a new name instead.
        const half = this.names.fresh(`${name}_fp16`);
        renameEverywhere(graph, name, half);
        graph.node.push(makeNode('Cast', [half], [name], this.names.fresh(`${name}_Cast`), [intAttr('to', OnnxType.FLOAT)]));
      } else {
        // Subgraph outputs are positional, so the output itself may be renamed to a float32 copy.
        const full = this.names.fresh(`${name}_fp32`);
        graph.node.push(makeNode('Cast', [name], [full], this.names.fresh(`${full}_Cast`), [intAttr('to', OnnxType.FLOAT)]));
        v.name = full;
      }
      this.report.castsInserted++;
    }
  }

  /** Originals whose every reader moved to the float16 copy are removed. */
  private dropUnusedOriginals(): void {
    const uses = usesByName(this.model.graph!);
    const outputs = new Set(allGraphs(this.model.graph!).flatMap((s) => s.graph.output.map((o) => o.name ?? '')));
    for (const w of this.consts.values()) {
      const converted = this.fp16Inits.has(w.name) || w.location === 'constant';
      if (!converted || (uses.get(w.name)?.length ?? 0) > 0 || outputs.has(w.name)) {
        if (this.fp16Inits.has(w.name)) this.report.duplicatedTensors.push(w.name);
        continue;
      }
      if (w.location === 'initializer') w.scope.graph.initializer = w.scope.graph.initializer.filter((t) => t !== w.tensor);
      else w.scope.graph.node = w.scope.graph.node.filter((n) => n !== w.node);
    }
  }
}

/** Inputs that are float32 in the op's definition whatever the data type (type constraint tensor(float)). */
function fixedFloat32(node: NodeProto, i: number): boolean {
  const op = node.opType ?? '';
  return (op === 'Resize' && (i === 1 || i === 2)) || (op === 'Upsample' && i === 1);
}

function renameEverywhere(graph: GraphProto, from: string, to: string): void {
  for (const { graph: g } of allGraphs(graph)) {
    for (const n of g.node) {
      n.input = n.input.map((x) => (x === from ? to : x));
      n.output = n.output.map((x) => (x === from ? to : x));
    }
    for (const v of g.valueInfo) if (v.name === from) v.name = to;
  }
}
