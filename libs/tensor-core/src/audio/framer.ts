import { LeptonError } from '../errors';

/**
 * Splits a sample stream into fixed chunks of `size` new samples, each prefixed by the last `context` samples
 * of the previous chunk (zeros before the first). Frames have length context + size. The final partial chunk is
 * zero-padded by flush(). STUB.
 */
export class Framer {
  constructor(
    readonly size: number,
    readonly context: number,
  ) {}
  push(_samples: Float32Array): Float32Array[] {
    throw new LeptonError('NOT_IMPLEMENTED', 'Framer.push');
  }
  flush(): Float32Array[] {
    throw new LeptonError('NOT_IMPLEMENTED', 'Framer.flush');
  }
}
