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
  /**
   * Declared length of the data chunk in bytes (may exceed what a truncated file holds). 0 and 0xFFFFFFFF
   * (written by streaming encoders that cannot seek back) mean "unknown": the decoder reads to the end.
   */
  dataBytes: number;
}

/** Sample rates outside this range are refused as WAV_UNSUPPORTED (a corrupt header, not audio). */
export const WAV_MIN_RATE = 1000;
export const WAV_MAX_RATE = 768_000;
/** Channel counts above this are refused (WAVE_FORMAT_EXTENSIBLE names at most 18 speaker positions). */
export const WAV_MAX_CHANNELS = 64;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'mu-law',
  0x11: 'IMA ADPCM',
  0x31: 'GSM 6.10',
  0x55: 'MPEG layer 3',
};

function unsupported(message: string, details?: Record<string, unknown>): LeptonError {
  return new LeptonError('WAV_UNSUPPORTED', message, details);
}

/** Decodes the body of a `fmt ` chunk (at least 16 bytes) into everything but the data chunk fields. */
export function parseFmtChunk(body: Uint8Array): Omit<WavFormat, 'dataOffset' | 'dataBytes'> {
  if (body.length < 16) {
    throw new LeptonError('WAV_INVALID', `fmt chunk is ${body.length} bytes; expected at least 16`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let tag = view.getUint16(0, true);
  const channels = view.getUint16(2, true);
  const sampleRate = view.getUint32(4, true);
  const blockAlign = view.getUint16(12, true);
  const bits = view.getUint16(14, true);
  if (tag === FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize (2) validBits (2) channelMask (4) then the sub-format GUID, whose first two
    // bytes are the real format tag.
    if (body.length < 40) {
      throw new LeptonError('WAV_INVALID', `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${body.length} bytes; expected 40`);
    }
    tag = view.getUint16(24, true);
  }
  if (tag !== FORMAT_PCM && tag !== FORMAT_FLOAT) {
    const name = FORMAT_NAMES[tag] ? ` (${FORMAT_NAMES[tag]})` : '';
    throw unsupported(`WAV format code ${tag}${name} is not supported; expected 1 (PCM) or 3 (IEEE float)`, { formatCode: tag });
  }
  if (channels === 0 || channels > WAV_MAX_CHANNELS) {
    throw unsupported(`WAV has ${channels} channels; expected 1 to ${WAV_MAX_CHANNELS}`, { channels });
  }
  if (sampleRate < WAV_MIN_RATE || sampleRate > WAV_MAX_RATE) {
    throw unsupported(`WAV sample rate is ${sampleRate} Hz; expected ${WAV_MIN_RATE} to ${WAV_MAX_RATE} Hz`, { sampleRate });
  }
  let encoding: PcmEncoding;
  if (tag === FORMAT_FLOAT) {
    if (bits !== 32 && bits !== 64) {
      throw unsupported(`IEEE float WAV with ${bits} bits per sample is not supported; expected 32 or 64`, { bits });
    }
    encoding = bits === 32 ? 'float32' : 'float64';
  } else {
    const byBits: Record<number, PcmEncoding> = { 8: 'uint8', 16: 'int16', 24: 'int24', 32: 'int32' };
    const e = byBits[bits];
    if (!e) throw unsupported(`PCM WAV with ${bits} bits per sample is not supported; expected 8, 16, 24 or 32`, { bits });
    encoding = e;
  }
  const expectedAlign = channels * (bits / 8);
  if (blockAlign !== expectedAlign) {
    throw new LeptonError(
      'WAV_INVALID',
      `WAV block align is ${blockAlign}; expected ${expectedAlign} (${channels} channels x ${bits / 8} bytes)`,
      { blockAlign, expected: expectedAlign },
    );
  }
  return { sampleRate, channels, encoding, blockAlign };
}

/** Bytes per sample of one channel. */
export function bytesPerSample(encoding: PcmEncoding): number {
  switch (encoding) {
    case 'uint8':
      return 1;
    case 'int16':
      return 2;
    case 'int24':
      return 3;
    case 'int32':
    case 'float32':
      return 4;
    case 'float64':
      return 8;
  }
}

/**
 * Decode `frames` whole frames starting at byte `offset` of `view` into mono samples at `out[outOffset..]`.
 * Channels are summed in file order in float64 (exact for integer encodings), divided by the channel count and
 * rounded once to float32, so the result does not depend on how the bytes were split.
 */
export function decodeFrames(
  view: DataView,
  offset: number,
  frames: number,
  format: Pick<WavFormat, 'channels' | 'encoding' | 'blockAlign'>,
  out: Float32Array,
  outOffset: number,
): void {
  const { channels, encoding, blockAlign } = format;
  const step = bytesPerSample(encoding);
  for (let f = 0; f < frames; f++) {
    const base = offset + f * blockAlign;
    let sum = 0;
    for (let ch = 0; ch < channels; ch++) {
      const p = base + ch * step;
      switch (encoding) {
        case 'uint8':
          sum += (view.getUint8(p) - 128) / 128;
          break;
        case 'int16':
          sum += view.getInt16(p, true) / 32768;
          break;
        case 'int24':
          sum += ((view.getInt8(p + 2) << 16) | view.getUint16(p, true)) / 8388608;
          break;
        case 'int32':
          sum += view.getInt32(p, true) / 2147483648;
          break;
        case 'float32':
          sum += view.getFloat32(p, true);
          break;
        case 'float64':
          sum += view.getFloat64(p, true);
          break;
      }
    }
    out[outOffset + f] = channels === 1 ? sum : sum / channels;
  }
}
