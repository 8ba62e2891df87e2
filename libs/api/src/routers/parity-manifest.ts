import { LeptonError, dtypeFromOnnx } from '@lepton/tensor-core';
import type { ModelManifestInput } from '@lepton/contracts';
import { decodeModel, onnxTypeName, type TypeProto, type ValueInfoProto } from '@lepton/onnx';

export interface GenericManifestOptions {
  id: string;
  version: string;
  name?: string;
  /**
   * Shapes of example feeds, used for inputs whose model declares no shape at all (rank unknown): their dims
   * become symbolic, so any size of that rank is accepted.
   */
  exampleShapes?: Record<string, readonly number[]>;
}

/**
 * A `generic` manifest for any ONNX model: its graph inputs (initializers excluded) and outputs with dtypes and
 * shapes as declared (unnamed free dims get a name of their own, `input:dim`), no pipelines, the default
 * explicit session options. Lets the parity harness and the conformance runner register an arbitrary model
 * file. DTYPE_UNSUPPORTED names an input or output that is not a tensor of a Lepton dtype (sequences, maps,
 * optionals, float8...), which onnxruntime's JS API cannot carry either.
 */
export function manifestFromModel(model: Uint8Array, opts: GenericManifestOptions): ModelManifestInput {
  const graph = decodeModel(model).graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name ?? ''));
  const inputs = graph.input.filter((v) => !initializers.has(v.name ?? '')).map((v) => specOf(v, 'input', opts.exampleShapes));
  const outputs = graph.output.map((v) => specOf(v, 'output', undefined));
  return {
    id: opts.id,
    name: opts.name ?? opts.id,
    version: opts.version,
    task: 'generic',
    inputs,
    outputs,
  };
}

/** What kind of value a graph input/output carries: 'tensor', or the container that JS runtimes cannot feed. */
export function valueKind(type: TypeProto | undefined): 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse' | 'unknown' {
  if (type?.tensorType) return 'tensor';
  if (type?.sequenceType) return 'sequence';
  if (type?.mapType) return 'map';
  if (type?.optionalType) return 'optional';
  if (type?.sparseTensorType) return 'sparse';
  return 'unknown';
}

function specOf(v: ValueInfoProto, role: 'input' | 'output', examples: Record<string, readonly number[]> | undefined) {
  const name = v.name ?? '';
  const kind = valueKind(v.type);
  if (kind !== 'tensor') {
    throw new LeptonError('DTYPE_UNSUPPORTED', `${role} '${name}' is a ${kind}, not a tensor; Lepton and onnxruntime's JS API carry tensors only`, {
      [role]: name,
      kind,
    });
  }
  const tt = v.type!.tensorType!;
  const dtype = dtypeFromOnnx(tt.elemType ?? 0);
  if (dtype === undefined) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `${role} '${name}' has ONNX type ${onnxTypeName(tt.elemType)}, which Lepton tensors cannot hold`, {
      [role]: name,
    });
  }
  let shape: (number | string)[];
  if (tt.shape) {
    shape = tt.shape.dim.map((d, i) => {
      // protobufjs puts defaults (0, '') on the prototype: only own properties were on the wire.
      if (has(d, 'dimValue') && d.dimValue !== undefined) {
        const n = typeof d.dimValue === 'number' ? d.dimValue : d.dimValue.toNumber();
        // A negative size means "unknown" in older exporters.
        if (n >= 0) return n;
      }
      return has(d, 'dimParam') && d.dimParam ? d.dimParam : `${name}:${i}`;
    });
  } else {
    const example = examples?.[name];
    if (role === 'input' && example === undefined) {
      throw new LeptonError('MANIFEST_INVALID', `input '${name}' declares no shape; pass an example shape to fix its rank`, { input: name });
    }
    shape = (example ?? []).map((_, i) => `${name}:${i}`);
  }
  return { name, dtype, shape };
}

function has(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}
