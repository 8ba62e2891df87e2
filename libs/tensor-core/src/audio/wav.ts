import { LeptonError } from '../errors';
import { decodeFrames, parseFmtChunk, type WavFormat } from './wav-format';

export type { PcmEncoding, WavFormat } from './wav-format';

/** A data chunk that ended before its declared size: what it declared and what the file held. */
export interface WavTruncation {
  declaredBytes: number;
  readBytes: number;
}

/** Largest fmt chunk we buffer (PCMWAVEFORMAT is 16 bytes, WAVEFORMATEXTENSIBLE 40). */
const MAX_FMT_BYTES = 1024;

type State = 'riff' | 'chunkHeader' | 'fmt' | 'skip' | 'data' | 'after';

const ascii = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

/**
 * Incremental WAV decoder: push byte chunks of any size, get mono float32 samples in [-1, 1] at the file's rate.
 * Reads RIFF (and RF64) WAVE with PCM 8-bit unsigned, 16/24/32-bit signed, IEEE float 32/64, plain or
 * WAVE_FORMAT_EXTENSIBLE. Chunks other than fmt/data (LIST, fact, ds64, ...) are skipped without buffering,
 * honouring the odd-size pad byte. A data size of 0 or 0xFFFFFFFF, or one larger than the bytes that arrive,
 * means "read to the end"; bytes after a complete data chunk are ignored. Channels are averaged in file order.
 * A real size larger than the bytes that arrive (a cut file) is accepted too, and said in `truncated` after end();
 * a partial frame at its end (the cut fell inside a frame) is dropped.
 * Any split of the same bytes gives bit-identical samples.
 * Errors (LeptonError): WAV_INVALID (not RIFF/WAVE, missing fmt/data, garbage chunk ids, inconsistent fmt),
 * WAV_UNSUPPORTED (encoding, channel count, sample rate), WAV_TRUNCATED (ends inside the header, or mid-frame
 * where the data size is reached or unknown, reported by end()), WAV_EMPTY (0 samples, by end()).
 */
export class WavDecoder {
  format: WavFormat | undefined;
  samplesOut = 0;
  /**
   * Set by end() when the data chunk declared a real size (not 0 or 0xFFFFFFFF) and the stream ended before it:
   * the samples are those of `readBytes` bytes, not of the `declaredBytes` the header promised.
   */
  truncated: WavTruncation | undefined;
  private state: State = 'riff';
  /** Bytes of the structure being read (RIFF header, chunk header, fmt body); never larger than MAX_FMT_BYTES. */
  private head = new Uint8Array(12);
  private have = 0;
  private need = 12;
  private skipLeft = 0;
  private fmt: Omit<WavFormat, 'dataOffset' | 'dataBytes'> | undefined;
  private fmtPad = 0;
  /** Data bytes still expected (Infinity when the size is unknown). */
  private dataLeft = 0;
  /** A partial frame carried to the next push. */
  private carry = new Uint8Array(0);
  private carried = 0;
  private offset = 0;
  private ended = false;

  push(chunk: Uint8Array): Float32Array {
    if (this.ended) throw new LeptonError('WAV_INVALID', 'WavDecoder.push called after end()');
    const parts: Float32Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.state === 'data') {
        pos += this.readData(chunk, pos, parts);
      } else if (this.state === 'skip') {
        const n = Math.min(this.skipLeft, chunk.length - pos);
        this.skipLeft -= n;
        pos += n;
        if (this.skipLeft === 0) this.expect('chunkHeader', 8);
      } else if (this.state === 'after') {
        pos = chunk.length;
      } else {
        const n = Math.min(this.need - this.have, chunk.length - pos);
        this.head.set(chunk.subarray(pos, pos + n), this.have);
        this.have += n;
        pos += n;
        if (this.state === 'riff') this.checkMagic();
        if (this.have === this.need) this.structureComplete(pos);
      }
    }
    this.offset += chunk.length;
    return concat(parts);
  }

  /** Finish the stream: throws WAV_TRUNCATED / WAV_INVALID / WAV_EMPTY as described above; returns no samples. */
  end(): Float32Array {
    this.ended = true;
    // No bytes at all is an empty file, as the streaming route and the web page call it, not a cut header.
    if (this.offset === 0) throw new LeptonError('WAV_EMPTY', 'the WAV file is empty (0 bytes); expected a WAV file');
    if (this.state !== 'data' && this.state !== 'after') {
      if (this.state === 'riff' || this.have > 0 || this.state === 'fmt' || (this.state === 'skip' && this.skipLeft > 0)) {
        const where = this.state === 'riff' ? 'the RIFF header' : this.state === 'fmt' ? 'the fmt chunk' : 'a chunk before the data';
        throw new LeptonError('WAV_TRUNCATED', `WAV ends after ${this.offset} bytes, inside ${where}`, { bytes: this.offset });
      }
      if (!this.fmt) throw new LeptonError('WAV_INVALID', 'WAV has no fmt chunk before its end; expected fmt then data');
      throw new LeptonError('WAV_INVALID', 'WAV has no data chunk; expected a data chunk after fmt');
    }
    // A real data size the stream never reached: the file was cut, usually at any byte, so mid-frame as often as
    // not. Its partial last frame is dropped and the cut said in `truncated`, as for a cut on a frame boundary.
    const cut = this.state === 'data' && Number.isFinite(this.dataLeft);
    if (this.carried > 0 && !cut) {
      const align = this.format!.blockAlign;
      throw new LeptonError(
        'WAV_TRUNCATED',
        `WAV data ends mid-frame: ${this.carried} trailing bytes of a ${align}-byte frame after ${this.samplesOut} samples`,
        { trailingBytes: this.carried, blockAlign: align },
      );
    }
    if (this.samplesOut === 0) throw new LeptonError('WAV_EMPTY', 'WAV data chunk holds 0 samples; expected at least 1');
    if (cut) {
      const declaredBytes = this.format!.dataBytes;
      this.truncated = { declaredBytes, readBytes: declaredBytes - this.dataLeft };
    }
    return new Float32Array(0);
  }

  private expect(state: State, bytes: number): void {
    this.state = state;
    this.have = 0;
    this.need = bytes;
    if (this.head.length < bytes) this.head = new Uint8Array(bytes);
  }

  private checkMagic(): void {
    const want = 'RIFF';
    const alt = 'RF64';
    for (let i = 0; i < Math.min(this.have, 4); i++) {
      const b = this.head[i]!;
      if (b !== want.charCodeAt(i) && b !== alt.charCodeAt(i)) {
        if (i === 3 && this.head[0] === 0x52 && this.head[1] === 0x49 && this.head[2] === 0x46 && b === 0x58) {
          throw new LeptonError('WAV_UNSUPPORTED', 'big-endian RIFX WAV is not supported; expected RIFF');
        }
        throw new LeptonError('WAV_INVALID', `not a WAV file: byte ${i} is 0x${b.toString(16).padStart(2, '0')}; expected "RIFF" at the start`);
      }
    }
  }

  /** The buffered structure is complete; `filePos` is the offset within the current chunk just after it. */
  private structureComplete(chunkPos: number): void {
    const h = this.head;
    if (this.state === 'riff') {
      const form = ascii(h, 8);
      if (form !== 'WAVE') throw new LeptonError('WAV_INVALID', `RIFF form type is "${form}"; expected "WAVE"`);
      this.expect('chunkHeader', 8);
      return;
    }
    if (this.state === 'fmt') {
      this.fmt = parseFmtChunk(h.subarray(0, this.need));
      this.carry = new Uint8Array(this.fmt.blockAlign);
      this.skipOrNext(this.fmtPad);
      return;
    }
    // Chunk header: id (4 ASCII bytes) + little-endian size.
    for (let i = 0; i < 4; i++) {
      const b = h[i]!;
      if (b < 0x20 || b > 0x7e) {
        const at = this.offset + chunkPos - 8;
        throw new LeptonError('WAV_INVALID', `WAV chunk id at byte ${at} has byte 0x${b.toString(16).padStart(2, '0')}; expected four ASCII characters`, { offset: at });
      }
    }
    const id = ascii(h, 0);
    const size = new DataView(h.buffer, h.byteOffset, 8).getUint32(4, true);
    if (id === 'fmt ') {
      if (this.fmt) throw new LeptonError('WAV_INVALID', 'WAV has a second fmt chunk; expected exactly one');
      if (size < 16 || size > MAX_FMT_BYTES) {
        throw new LeptonError('WAV_INVALID', `fmt chunk size is ${size} bytes; expected 16 to ${MAX_FMT_BYTES}`, { size });
      }
      this.fmtPad = size & 1;
      this.expect('fmt', size);
    } else if (id === 'data') {
      if (!this.fmt) throw new LeptonError('WAV_INVALID', 'WAV data chunk comes before the fmt chunk; expected fmt first');
      const dataOffset = this.offset + chunkPos;
      this.format = { ...this.fmt, dataOffset, dataBytes: size };
      this.dataLeft = size === 0 || size === 0xffffffff ? Infinity : size;
      this.state = 'data';
    } else {
      this.skipOrNext(size + (size & 1));
    }
  }

  private skipOrNext(bytes: number): void {
    if (bytes === 0) {
      this.expect('chunkHeader', 8);
    } else {
      this.state = 'skip';
      this.skipLeft = bytes;
    }
  }

  /** Decode data bytes from chunk[pos..]; returns how many bytes were consumed. */
  private readData(chunk: Uint8Array, pos: number, parts: Float32Array[]): number {
    const fmt = this.format!;
    const align = fmt.blockAlign;
    const take = Math.min(chunk.length - pos, this.dataLeft);
    let p = pos;
    const end = pos + take;
    let frames = 0;
    const firstFromCarry = this.carried > 0;
    if (firstFromCarry) {
      const n = Math.min(align - this.carried, end - p);
      this.carry.set(chunk.subarray(p, p + n), this.carried);
      this.carried += n;
      p += n;
      if (this.carried === align) frames = 1;
    }
    const whole = Math.floor((end - p) / align);
    const out = new Float32Array(frames + whole);
    if (frames === 1) {
      decodeFrames(new DataView(this.carry.buffer), 0, 1, fmt, out, 0);
      this.carried = 0;
    }
    decodeFrames(new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength), p, whole, fmt, out, frames);
    p += whole * align;
    if (p < end) {
      this.carry.set(chunk.subarray(p, end), this.carried);
      this.carried += end - p;
    }
    if (fmt.encoding === 'float32' || fmt.encoding === 'float64') rejectNonFinite(out, this.samplesOut);
    this.dataLeft -= take;
    if (this.dataLeft === 0) this.state = 'after';
    if (out.length > 0) parts.push(out);
    this.samplesOut += out.length;
    return take;
  }
}

/**
 * Integer PCM always lands in [-1, 1]; float PCM can hold NaN or +-Infinity, which would flow through resampling
 * into the model and come out as "no speech" without a word. Refuse it, naming the first such frame.
 */
function rejectNonFinite(samples: Float32Array, firstFrame: number): void {
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (v - v !== 0) {
      throw new LeptonError('WAV_INVALID', `WAV sample ${firstFrame + i} is ${v}; expected a finite float (NaN and Infinity are not audio)`, {
        frame: firstFrame + i,
      });
    }
  }
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Decode a whole WAV file to mono float32 at its own rate (`truncated` as WavDecoder sets it). */
export function decodeWav(bytes: Uint8Array): { format: WavFormat; samples: Float32Array; truncated?: WavTruncation } {
  const decoder = new WavDecoder();
  const samples = decoder.push(bytes);
  decoder.end();
  return { format: decoder.format!, samples, ...(decoder.truncated ? { truncated: decoder.truncated } : {}) };
}
