import { DTYPE_INFO, allocate, byteLengthOf, type DType, type DTypeStorage } from './dtype';
import { LeptonError } from './errors';

/** A dense, row-major tensor: dtype + shape + storage. Plain data, so it crosses workers and the wire. */
export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DTypeStorage[D];
}

/** Number of elements of a shape (1 for rank 0). Throws SHAPE_INVALID for negative or non-integer dims. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new LeptonError('SHAPE_INVALID', `shape[${i}] is ${String(d)}; expected a non-negative integer`, {
        shape: [...shape],
      });
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) {
    throw new LeptonError('SHAPE_INVALID', `shape [${shape.join(', ')}] has more elements than a safe integer`);
  }
  return n;
}

/** Number of storage units (typed array length) for `count` elements of dtype. */
export function storageLength(dtype: DType, count: number): number {
  return DTYPE_INFO[dtype].bits === 4 ? Math.ceil(count / 2) : count;
}

/**
 * Create a tensor. Without data, storage is zeroed. With data, its length must match the shape
 * (TENSOR_SIZE_MISMATCH otherwise); the data is used as is, not copied.
 */
export function createTensor<D extends DType>(dtype: D, shape: readonly number[], data?: DTypeStorage[D]): Tensor<D> {
  const count = sizeOf(shape);
  const expected = storageLength(dtype, count);
  if (data === undefined) return { dtype, shape: [...shape], data: allocate(dtype, count) };
  if (data.length !== expected) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `${dtype} tensor of shape [${shape.join(', ')}] needs ${expected} elements, got ${data.length}`,
      { dtype, shape: [...shape], expected, received: data.length },
    );
  }
  return { dtype, shape: [...shape], data };
}

/** Bytes of the tensor's raw little-endian representation (strings excluded). */
export function tensorByteLength(t: Tensor): number {
  if (t.dtype === 'string') return 0;
  return byteLengthOf(t.dtype, sizeOf(t.shape));
}
