// A WebAssembly body for Resize's (bi)linear inner loop, with the plain loop in resize.ts as its reference (tests
// compare both bit for bit, and against onnxruntime). The module is assembled here from opcodes (no toolchain, no
// binary blob) and runs on Node and in browsers alike; where WebAssembly is missing, or memory cannot grow, the
// caller uses the plain loop.
//
// Scalar f32: f32.mul and f32.add are IEEE float32 operations, the same roundings as the plain loop's
// Math.fround(a * b) and Math.fround(a + b) (a product of two floats is exact in a double, and a double-rounded
// float sum is the float sum), so the same products in onnxruntime's summation order give the same bits. The
// plain loop spends its time in V8's float64 arithmetic and rounding; this one measured several times faster.
//
// Memory: [y table][x table][input rows][output rows], grown on demand and kept (one instance per engine). Each
// table row is 16 bytes: two byte offsets (a row's start within a plane for y, an element for x) and the two
// distances. Large planes go through in chunks of output rows with just the input rows they read (the neighbour
// indices never decrease along an axis), so memory stays near a megabyte whatever the image size.

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmExports {
  mem: WasmMemory;
  lin: (src: number, dst: number, planes: number, planeBytes: number, yt: number, ytEnd: number, xt: number, xtEnd: number) => void;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** An axis's per-output-index neighbours and distances (float32), as resize.ts computes them. */
export interface LinearAxis {
  i1: Int32Array;
  i2: Int32Array;
  d1: Float32Array;
  d2: Float32Array;
}

/** Output elements per chunk (256 KiB); a plane group at most this large (input included) goes in one call. */
const CHUNK = 65536;

function module(): Uint8Array {
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const i32load = (off: number) => [0x28, 2, off];
  const f32load = (off: number) => [0x2a, 2, off];
  const add = 0x6a;
  const fmul = 0x94;
  const fadd = 0x92;
  // params: 0 src, 1 dst, 2 planes, 3 planeBytes, 4 yt, 5 ytEnd, 6 xt, 7 xtEnd
  // locals: 8 yp, 9 r1, 10 r2, 11 xp, 12 a1, 13 a2 (i32); 14 dy1, 15 dy2, 16 dx1, 17 dx2 (f32)
  // One product: (dx * dy) * x[r + a], each rounded to float32.
  const term = (dx: number, dy: number, r: number, a: number) => [...get(dx), ...get(dy), fmul, ...get(r), ...get(a), add, ...f32load(0), fmul];
  const code = [
    2, 6, 0x7f, 4, 0x7d,
    0x03, 0x40, // loop planes
    ...get(4), ...set(8),
    0x03, 0x40, // loop rows
    ...get(0), ...get(8), ...i32load(0), add, ...set(9),
    ...get(0), ...get(8), ...i32load(4), add, ...set(10),
    ...get(8), ...f32load(8), ...set(14),
    ...get(8), ...f32load(12), ...set(15),
    ...get(6), ...set(11),
    0x03, 0x40, // loop columns
    ...get(11), ...i32load(0), ...set(12),
    ...get(11), ...i32load(4), ...set(13),
    ...get(11), ...f32load(8), ...set(16),
    ...get(11), ...f32load(12), ...set(17),
    ...get(1),
    ...term(17, 15, 9, 12), ...term(16, 15, 9, 13), fadd, ...term(17, 14, 10, 12), fadd, ...term(16, 14, 10, 13), fadd,
    0x38, 2, 0, // f32.store
    ...get(1), 0x41, 4, add, ...set(1), // dst += 4
    ...get(11), 0x41, 16, add, ...tee(11), ...get(7), 0x47, 0x0d, 0, // xp += 16; continue while xp != xtEnd
    0x0b,
    ...get(8), 0x41, 16, add, ...tee(8), ...get(5), 0x47, 0x0d, 0, // yp += 16; continue while yp != ytEnd
    0x0b,
    ...get(0), ...get(3), add, ...set(0), // src += planeBytes
    ...get(2), 0x41, 1, 0x6b, ...tee(2), 0x0d, 0, // continue while --planes
    0x0b,
    0x0b,
  ];
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('mem'), 2, 0, ...name('lin'), 0, 0]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

interface Kernel {
  exports: WasmExports;
  buffer: ArrayBuffer;
  f32: Float32Array;
  i32: Int32Array;
}

let kernel: Kernel | null | undefined;
let enabled = true;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wa) return (kernel = null);
    const exports = new wa.Instance(new wa.Module(module()), {}).exports as WasmExports;
    const buffer = exports.mem.buffer;
    kernel = { exports, buffer, f32: new Float32Array(buffer), i32: new Int32Array(buffer) };
  } catch {
    // No WebAssembly here (or compilation disabled): the plain loop is used.
    kernel = null;
  }
  return kernel;
}

/** Grows the module's memory to at least `bytes`; false when the engine refuses. */
function ensure(k: Kernel, bytes: number): boolean {
  const have = k.exports.mem.buffer.byteLength;
  if (bytes > have) {
    try {
      k.exports.mem.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return false;
    }
  }
  if (k.buffer !== k.exports.mem.buffer) {
    k.buffer = k.exports.mem.buffer;
    k.f32 = new Float32Array(k.buffer);
    k.i32 = new Int32Array(k.buffer);
  }
  return true;
}

/** Turn the WebAssembly resize path on or off (tests compare it with the plain loop); returns the previous setting. */
export function setResizeWasmEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the WebAssembly resize path is enabled and available on this engine. */
export function resizeWasmAvailable(): boolean {
  return enabled && load() !== null;
}

function writeTable(k: Kernel, at: number, axis: LinearAxis, stride: number): void {
  const { i1, i2, d1, d2 } = axis;
  const iw = k.i32;
  const fw = k.f32;
  let j = at >>> 2;
  for (let t = 0; t < i1.length; t++, j += 4) {
    iw[j] = i1[t]! * stride;
    iw[j + 1] = i2[t]! * stride;
    fw[j + 2] = d1[t]!;
    fw[j + 3] = d2[t]!;
  }
}

/**
 * Linear resize of `planes` planes of h x w into oh x ow (dst) with the module; false (doing nothing) when it is
 * unavailable or its memory cannot grow.
 */
export function resizeLinearWasm(
  x: Float32Array,
  planes: number,
  h: number,
  w: number,
  yAxis: LinearAxis,
  xAxis: LinearAxis,
  dst: Float32Array,
): boolean {
  const k = enabled ? load() : null;
  if (!k) return false;
  const oh = yAxis.i1.length;
  const ow = xAxis.i1.length;
  const yt = 0;
  const xt = 16 * oh;
  const data = xt + 16 * ow;
  const inPlane = h * w;
  const outPlane = oh * ow;
  if (planes * (inPlane + outPlane) <= 2 * CHUNK) {
    // All planes at once: one copy in, one call, one copy out.
    const out = data + 4 * planes * inPlane;
    if (!ensure(k, out + 4 * planes * outPlane)) return false;
    writeTable(k, yt, yAxis, 4 * w);
    writeTable(k, xt, xAxis, 4);
    k.f32.set(x.length === planes * inPlane ? x : x.subarray(0, planes * inPlane), data >>> 2);
    k.exports.lin(data, out, planes, 4 * inPlane, yt, xt, xt, data);
    dst.set(k.f32.subarray(out >>> 2, (out >>> 2) + planes * outPlane));
    return true;
  }
  // Chunks of output rows, each with only the input rows it reads.
  const rows = Math.max(1, Math.floor(CHUNK / ow));
  let most = 0;
  for (let y0 = 0; y0 < oh; y0 += rows) {
    const y1 = Math.min(oh, y0 + rows);
    most = Math.max(most, yAxis.i2[y1 - 1]! - yAxis.i1[y0]! + 1);
  }
  const out = data + 4 * most * w;
  if (!ensure(k, out + 4 * rows * ow)) return false;
  writeTable(k, yt, yAxis, 4 * w);
  writeTable(k, xt, xAxis, 4);
  const f32 = k.f32;
  for (let p = 0; p < planes; p++) {
    const base = p * inPlane;
    for (let y0 = 0; y0 < oh; y0 += rows) {
      const y1 = Math.min(oh, y0 + rows);
      const lo = yAxis.i1[y0]!;
      const hi = yAxis.i2[y1 - 1]!;
      f32.set(x.subarray(base + lo * w, base + (hi + 1) * w), data >>> 2);
      // The y table holds row offsets within the plane; shifting src back by row lo points them into the copy
      // (i32 addition wraps, so the shifted base may be "negative").
      k.exports.lin((data - 4 * lo * w) | 0, out, 1, 0, yt + 16 * y0, yt + 16 * y1, xt, data);
      dst.set(f32.subarray(out >>> 2, (out >>> 2) + (y1 - y0) * ow), p * outPlane + y0 * ow);
    }
  }
  return true;
}
