import type { Tensor } from '@lepton/tensor-core';
import { LeptonError } from '@lepton/tensor-core';
import type { WireFormat, WireTensor } from './tensor';

export interface DecodeLimits {
  /** Largest tensor accepted, in bytes of its decoded storage (default 64 MiB). */
  maxBytes?: number;
}

/** Encode a tensor for the JSON wire (lossless). STUB: implemented by the contracts first cut. */
export function encodeWireTensor(_name: string, _t: Tensor, _format: WireFormat = 'base64'): WireTensor {
  throw new LeptonError('NOT_IMPLEMENTED', 'encodeWireTensor');
}

/**
 * Decode a wire tensor into fresh, aligned storage. Checks data length against dtype x shape and the size limit
 * before allocating; errors are LeptonError with TENSOR_* codes naming the tensor. STUB.
 */
export function decodeWireTensor(_wire: WireTensor, _limits: DecodeLimits = {}): Tensor {
  throw new LeptonError('NOT_IMPLEMENTED', 'decodeWireTensor');
}
