import { DTYPE_INFO, LeptonError, allocate, type NumericDType, type Tensor, type TensorData } from '@lepton/tensor-core';

// Raw little-endian bytes of numeric tensors: the payload of the base64 wire form and of the KServe v2 binary
// extension. Typed arrays use the host's byte order, so big-endian hosts swap; every host we ship on is
// little-endian, and there the bytes are the storage itself.

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per storage element: 1 for bool/int8/uint8 and for packed int4/uint4. */
export function storageWidth(dtype: NumericDType): number {
  return Math.max(1, DTYPE_INFO[dtype].bits / 8);
}

function swapped(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes);
  if (width > 1) {
    for (let i = 0; i < out.length; i += width) out.subarray(i, i + width).reverse();
  }
  return out;
}

/**
 * The little-endian bytes of a numeric tensor's storage. On little-endian hosts this is a view of the storage
 * (honouring its byteOffset, so views into pooled buffers encode only their own bytes); copy it to keep it.
 */
export function tensorBytesView(t: Tensor): Uint8Array {
  if (t.dtype === 'string') {
    throw new LeptonError('DTYPE_UNSUPPORTED', 'string tensors have no fixed-width bytes; use the BYTES encoding');
  }
  const data = t.data as Exclude<TensorData, string[]>;
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return HOST_LE ? view : swapped(view, storageWidth(t.dtype));
}

/**
 * Fresh, aligned storage for `count` elements of `dtype`, filled from little-endian `bytes` (any offset, any
 * owner: the bytes are copied, never viewed). The caller has checked the length.
 */
export function storageFromBytes(dtype: NumericDType, count: number, bytes: Uint8Array): TensorData {
  const data = allocate(dtype, count) as Exclude<TensorData, string[]>;
  const target = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== target.length) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `${dtype} x ${count} elements needs ${target.length} bytes, got ${bytes.length}`,
      { expected: target.length, received: bytes.length },
    );
  }
  target.set(bytes);
  if (!HOST_LE) target.set(swapped(target, storageWidth(dtype)));
  return data;
}

/** Make the storage's bytes host-order in place after they were written little-endian (no-op on LE hosts). */
export function fixByteOrder(dtype: NumericDType, data: TensorData): void {
  if (HOST_LE) return;
  const d = data as Exclude<TensorData, string[]>;
  const target = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  target.set(swapped(target, storageWidth(dtype)));
}
