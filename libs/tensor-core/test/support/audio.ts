// Test support for the audio tests: hand-built WAV files and an
// independent, deliberately simple decoder used as the reference for WavDecoder.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface WavSpec {
  tag?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  data: Uint8Array;
  /** Override the data chunk's size field (0, 0xFFFFFFFF, or a lie). */
  dataSize?: number;
  /** Chunks placed between fmt and data. */
  before?: { id: string; body: Uint8Array }[];
  /** Write WAVE_FORMAT_EXTENSIBLE with this sub-format code. */
  extensible?: number;
}

function chunk(id: string, body: Uint8Array, sizeField = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  const v = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  v.setUint32(4, sizeField, true);
  out.set(body, 8);
  return out;
}

export function makeWav(spec: WavSpec): Uint8Array {
  const channels = spec.channels ?? 1;
  const bits = spec.bits ?? 16;
  const fmt = new Uint8Array(spec.extensible !== undefined ? 40 : 16);
  const v = new DataView(fmt.buffer);
  v.setUint16(0, spec.extensible !== undefined ? 0xfffe : (spec.tag ?? 1), true);
  v.setUint16(2, channels, true);
  v.setUint32(4, spec.rate ?? 16000, true);
  const align = spec.blockAlign ?? (channels * bits) / 8;
  v.setUint32(8, (spec.rate ?? 16000) * align, true);
  v.setUint16(12, align, true);
  v.setUint16(14, bits, true);
  if (spec.extensible !== undefined) {
    v.setUint16(16, 22, true);
    v.setUint16(18, bits, true);
    v.setUint32(20, channels === 2 ? 3 : 4, true);
    v.setUint16(24, spec.extensible, true);
    // Rest of the KSDATAFORMAT GUID: 0000-0010-8000-00aa00389b71
    fmt.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  const parts = [chunk('fmt ', fmt), ...(spec.before ?? []).map((c) => chunk(c.id, c.body)), chunk('data', spec.data, spec.dataSize)];
  // A data chunk whose size is a lie must not get the pad byte computed from the real body.
  const body = concatBytes([new TextEncoder().encode('WAVE'), ...parts]);
  return concatBytes([new TextEncoder().encode('RIFF'), u32(body.length), body]);
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reference decode of a canonical file: find "fmt " and "data" by scanning, average channels in float64. */
export function referenceDecode(bytes: Uint8Array): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  let channels = 0;
  let bits = 0;
  let tag = 0;
  for (;;) {
    const id = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = v.getUint32(at + 4, true);
    if (id === 'fmt ') {
      tag = v.getUint16(at + 8, true);
      if (tag === 0xfffe) tag = v.getUint16(at + 8 + 24, true);
      channels = v.getUint16(at + 10, true);
      bits = v.getUint16(at + 22, true);
    }
    if (id === 'data') {
      const start = at + 8;
      const bps = bits / 8;
      const n = Math.floor(Math.min(size, bytes.length - start) / (bps * channels));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < channels; c++) {
          const p = start + (i * channels + c) * bps;
          if (tag === 3) s += bits === 32 ? v.getFloat32(p, true) : v.getFloat64(p, true);
          else if (bits === 8) s += (bytes[p]! - 128) / 128;
          else if (bits === 16) s += v.getInt16(p, true) / 2 ** 15;
          else if (bits === 24) s += (bytes[p]! + bytes[p + 1]! * 256 + ((bytes[p + 2]! << 24) >> 24) * 65536) / 2 ** 23;
          else s += v.getInt32(p, true) / 2 ** 31;
        }
        out[i] = s / channels;
      }
      return out;
    }
    at += 8 + size + (size & 1);
  }
}

/** sox's own float decode of a file (mono files only: sox mixes channels with its own gain). */
export function soxFloat(path: string, rate?: number): Float32Array {
  const args = [path, '-t', 'f32', '-e', 'floating-point', '-b', '32', '-c', '1'];
  if (rate !== undefined) args.push('-r', String(rate));
  args.push('-');
  const buf = execFileSync('sox', args, { maxBuffer: 1 << 28 });
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Deterministic pseudo-random cut points in [0, n), sorted. */
export function randomCuts(n: number, count: number, seed: number): number[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return Array.from({ length: count }, () => Math.floor(rand() * n)).sort((a, b) => a - b);
}

/** Split bytes or samples at the given cut points. */
export function splitAt<T extends Uint8Array | Float32Array>(data: T, cuts: number[]): T[] {
  const out: T[] = [];
  let at = 0;
  for (const c of [...cuts, data.length]) {
    out.push(data.subarray(at, Math.max(at, c)) as T);
    at = Math.max(at, c);
  }
  return out;
}

/** Bit-level equality of two float arrays (distinguishes -0 and NaN payloads). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
