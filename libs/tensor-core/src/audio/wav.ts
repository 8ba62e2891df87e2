import { LeptonError } from '../errors';

/** Sample encodings a WAV file may carry. */
export type PcmEncoding = 'uint8' | 'int16' | 'int24' | 'int32' | 'float32' | 'float64';

export interface WavFormat {
  sampleRate: number;
  channels: number;
  encoding: PcmEncoding;
  /** Bytes per frame (all channels of one sample instant). */
  blockAlign: number;
  /** Byte offset of the first sample in the file. */
  dataOffset: number;
  /** Declared length of the data chunk in bytes (may exceed what a truncated file holds). */
  dataBytes: number;
}

/**
 * Incremental WAV decoder: push byte chunks of any size, get mono float32 samples in [-1, 1] at the file's rate.
 * Errors (LeptonError): WAV_INVALID (not RIFF/WAVE, missing fmt/data), WAV_UNSUPPORTED (encoding),
 * WAV_TRUNCATED (ends inside the header or mid-frame, reported by end()), WAV_EMPTY (0 samples, by end()).
 * STUB: implemented by the tensor-core first cut.
 */
export class WavDecoder {
  format: WavFormat | undefined;
  samplesOut = 0;
  push(_chunk: Uint8Array): Float32Array {
    throw new LeptonError('NOT_IMPLEMENTED', 'WavDecoder.push');
  }
  end(): Float32Array {
    throw new LeptonError('NOT_IMPLEMENTED', 'WavDecoder.end');
  }
}

/** Decode a whole WAV file to mono float32 at its own rate. */
export function decodeWav(_bytes: Uint8Array): { format: WavFormat; samples: Float32Array } {
  throw new LeptonError('NOT_IMPLEMENTED', 'decodeWav');
}
