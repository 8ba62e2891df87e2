import { LeptonError, type DType, type Tensor, type TensorData } from '@lepton/tensor-core';
import type { Tensor as OrtTensor } from 'onnxruntime-common';
import type { OrtModule } from './ort';

// Lepton tensors <-> onnxruntime-common tensors. The storage conventions match (int4/uint4 packed in a Uint8Array:
// onnxruntime-common 1.30's d.ts says Int8Array for int4, but its constructor only accepts Uint8Array) except that
// float16 may come back as a Float16Array on runtimes that have one; we always hand out Uint16Array bits.
// bfloat16 has no onnxruntime-common tensor type at all.

const ORT_TYPES: ReadonlySet<string> = new Set([
  'float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'bool', 'string', 'int4', 'uint4',
]);

/** Wrap a Lepton tensor for onnxruntime (no copy; onnxruntime copies or reads it during run). */
export function toOrtTensor(ort: OrtModule, name: string, t: Tensor): OrtTensor {
  if (!ORT_TYPES.has(t.dtype)) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `input '${name}' has dtype ${t.dtype}, which onnxruntime-common tensors cannot carry`, {
      input: name,
      dtype: t.dtype,
    });
  }
  const Ctor = ort.Tensor as unknown as new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
  return new Ctor(t.dtype, t.data, [...t.shape]);
}

/** Copy an onnxruntime output into a Lepton tensor with fresh storage it owns. */
export function fromOrtTensor(name: string, o: OrtTensor): Tensor {
  const dtype = o.type as string;
  if (!ORT_TYPES.has(dtype)) {
    throw new LeptonError('DTYPE_UNSUPPORTED', `output '${name}' has onnxruntime type ${dtype}, which Lepton does not support`, {
      output: name,
    });
  }
  const shape = o.dims.map(Number);
  const src = o.data as unknown;
  let data: TensorData;
  if (dtype === 'string') {
    data = [...(src as string[])];
  } else {
    const view = src as ArrayBufferView;
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    data = storageOver(dtype as DType, bytes.buffer);
  }
  return { dtype: dtype as DType, shape, data };
}

function storageOver(dtype: DType, buffer: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
    default:
      // uint8, bool, int4, uint4: bytes.
      return new Uint8Array(buffer);
  }
}
