import { LeptonError } from '../errors';

/**
 * Streaming resampler (band-limited; anti-aliased when down-sampling). Output sample k depends only on the
 * absolute input index, so any chunking of the input gives bit-identical output. STUB.
 */
export class Resampler {
  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {}
  push(_samples: Float32Array): Float32Array {
    throw new LeptonError('NOT_IMPLEMENTED', 'Resampler.push');
  }
  /** Emit the tail (input end treated as zeros beyond the last sample). */
  flush(): Float32Array {
    throw new LeptonError('NOT_IMPLEMENTED', 'Resampler.flush');
  }
}

export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  const r = new Resampler(fromRate, toRate);
  const a = r.push(samples);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
