/** A WAV file cut short: its header still declares the whole data chunk. */
export interface CutWav {
  bytes: Uint8Array;
  /** The data chunk's size as its header declares it. */
  declaredBytes: number;
  /** Data bytes the cut file still holds. */
  readBytes: number;
}

/**
 * Keep the header and the first `readBytes` data bytes of a RIFF WAV, the way a copy interrupted mid-transfer
 * looks: the data chunk's size field still says the full length. Throws if the file has no data chunk or
 * `readBytes` is not below its size.
 */
export function cutWav(wav: Uint8Array, readBytes: number): CutWav {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const id = (at: number) => String.fromCharCode(...wav.subarray(at, at + 4));
  if (id(0) !== 'RIFF' || id(8) !== 'WAVE') throw new Error('cutWav: not a RIFF WAVE file');
  for (let at = 12; at + 8 <= wav.length; ) {
    const size = view.getUint32(at + 4, true);
    if (id(at) === 'data') {
      if (!(readBytes >= 0 && readBytes < size)) throw new Error(`cutWav: readBytes ${readBytes}; expected 0 to ${size - 1}`);
      return { bytes: wav.slice(0, at + 8 + readBytes), declaredBytes: size, readBytes };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error('cutWav: no data chunk');
}
