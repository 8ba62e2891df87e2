// WebAssembly bodies for Resize's (bi)linear inner loop, with the plain loop in resize.ts as their reference
// (tests compare them bit for bit, and against onnxruntime). The module is assembled here from opcodes (no
// toolchain, no binary blob) and runs on Node and in browsers alike: the SIMD body where the engine has
// WebAssembly SIMD, else the scalar one; where WebAssembly is missing, or memory cannot grow, the caller uses the
// plain loop.
//
// f32.mul / f32.add (and their f32x4 forms, lane by lane) are IEEE float32 operations, the same roundings as the
// plain loop's Math.fround(a * b) and Math.fround(a + b) (a product of two floats is exact in a double, and a
// double-rounded float sum is the float sum), so the same products in onnxruntime's summation order give the
// same bits. The plain loop spends its time in V8's float64 arithmetic and rounding; the scalar body measured
// about 5x faster, the SIMD one (four outputs per turn, neighbours gathered lane by lane) another 10-15 %: the
// gathers, not the arithmetic, bound it.
//
// Memory: [y table][x table][input rows][output rows + 16 spare bytes], grown on demand and kept (one instance
// per engine). A y record is 16 bytes: two row offsets within a plane and the two distances; the x table is laid
// out per body (see scalarBody, simdBody). Large planes go through in chunks of output rows with just the input
// rows they read (the neighbour indices never decrease along an axis), so memory stays near a megabyte whatever
// the image size.

import { SECTION, funcBody, get, instantiateWasm, name, set, simd, tee, wasmModule, type WasmMemory } from '../wasm/assembler';

interface WasmExports {
  mem: WasmMemory;
  lin: (src: number, dst: number, planes: number, planeBytes: number, yt: number, ytEnd: number, xt: number, xtEnd: number, rowBytes: number) => void;
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

const i32load = (off: number) => [0x28, 2, off];
const f32load = (off: number) => [0x2a, 2, off];
const ADD = 0x6a;

// Both bodies take (src, dst, planes, planeBytes, yt, ytEnd, xt, xtEnd, rowBytes): planes of input at src, output
// rows at dst, the y table [yt, ytEnd) (16-byte records: two row offsets, dy1, dy2) and the x table [xt, xtEnd).

/** Scalar: x table records of 16 bytes (two element offsets, dx1, dx2), one output per turn. */
function scalarBody(): number[] {
  const fmul = 0x94;
  const fadd = 0x92;
  // locals: 9 yp, 10 r1, 11 r2, 12 xp, 13 a1, 14 a2 (i32); 15 dy1, 16 dy2, 17 dx1, 18 dx2 (f32)
  // One product: (dx * dy) * x[r + a], each rounded to float32.
  const term = (dx: number, dy: number, r: number, a: number) => [...get(dx), ...get(dy), fmul, ...get(r), ...get(a), ADD, ...f32load(0), fmul];
  return [
    2, 6, 0x7f, 4, 0x7d,
    0x03, 0x40, // loop planes
    ...get(4), ...set(9),
    0x03, 0x40, // loop rows
    ...get(0), ...get(9), ...i32load(0), ADD, ...set(10),
    ...get(0), ...get(9), ...i32load(4), ADD, ...set(11),
    ...get(9), ...f32load(8), ...set(15),
    ...get(9), ...f32load(12), ...set(16),
    ...get(6), ...set(12),
    0x03, 0x40, // loop columns
    ...get(12), ...i32load(0), ...set(13),
    ...get(12), ...i32load(4), ...set(14),
    ...get(12), ...f32load(8), ...set(17),
    ...get(12), ...f32load(12), ...set(18),
    ...get(1),
    ...term(18, 16, 10, 13), ...term(17, 16, 10, 14), fadd, ...term(18, 15, 11, 13), fadd, ...term(17, 15, 11, 14), fadd,
    0x38, 2, 0, // f32.store
    ...get(1), 0x41, 4, ADD, ...set(1), // dst += 4
    ...get(12), 0x41, 16, ADD, ...tee(12), ...get(7), 0x47, 0x0d, 0, // xp += 16; continue while xp != xtEnd
    0x0b,
    ...get(9), 0x41, 16, ADD, ...tee(9), ...get(5), 0x47, 0x0d, 0, // yp += 16; continue while yp != ytEnd
    0x0b,
    ...get(0), ...get(3), ADD, ...set(0), // src += planeBytes
    ...get(2), 0x41, 1, 0x6b, ...tee(2), 0x0d, 0, // continue while --planes
    0x0b,
    0x0b,
  ];
}

/**
 * SIMD: four outputs per turn, x table groups of 64 bytes (four x1 offsets, four x2 offsets, four dx1, four dx2;
 * a row's last group padded with offset 0 and distance 0). The weights are f32x4 products of the distances, the
 * neighbours gathered lane by lane (v128.load32_lane); the same float32 operations in the same order as the
 * scalar body, lane by lane. A row's last group may store up to 3 lanes past the row: into the next row, which
 * is written after it, or into 16 spare bytes after the output.
 */
function simdBody(): number[] {
  const fmul = simd(0xe6);
  const fadd = simd(0xe4);
  // locals: 9 yp, 10 r1, 11 r2, 12 xp, 13 d, 14-17 x1 offsets, 18-21 x2 offsets (i32); 22 dy1, 23 dy2, 24 dx1,
  // 25 dx2, 26 gathered lanes (v128)
  const gather = (r: number, a: number) => {
    const out: number[] = [];
    for (let j = 0; j < 4; j++) {
      out.push(...get(r), ...get(a + j), ADD, ...get(26), ...simd(0x56), 2, 0, j);
      if (j < 3) out.push(...set(26));
    }
    return out;
  };
  const term = (dx: number, dy: number, r: number, a: number) => [...get(dx), ...get(dy), ...fmul, ...gather(r, a), ...fmul];
  const loads: number[] = [];
  for (let j = 0; j < 8; j++) loads.push(...get(12), ...i32load(4 * j), ...set(14 + j));
  return [
    2, 13, 0x7f, 5, 0x7b,
    0x03, 0x40, // loop planes
    ...get(4), ...set(9),
    0x03, 0x40, // loop rows
    ...get(0), ...get(9), ...i32load(0), ADD, ...set(10),
    ...get(0), ...get(9), ...i32load(4), ADD, ...set(11),
    ...get(9), ...f32load(8), ...simd(0x13), ...set(22),
    ...get(9), ...f32load(12), ...simd(0x13), ...set(23),
    ...get(6), ...set(12),
    ...get(1), ...set(13),
    0x03, 0x40, // loop column groups
    ...loads,
    ...get(12), ...simd(0x00), 0, 32, ...set(24),
    ...get(12), ...simd(0x00), 0, 48, ...set(25),
    ...get(13),
    ...term(25, 23, 10, 14), ...term(24, 23, 10, 18), ...fadd, ...term(25, 22, 11, 14), ...fadd, ...term(24, 22, 11, 18), ...fadd,
    ...simd(0x0b), 0, 0, // v128.store
    ...get(13), 0x41, 16, ADD, ...set(13), // d += 16
    ...get(12), 0x41, 0xc0, 0x00, ADD, ...tee(12), ...get(7), 0x47, 0x0d, 0, // xp += 64; continue while xp != xtEnd
    0x0b,
    ...get(1), ...get(8), ADD, ...set(1), // dst += rowBytes
    ...get(9), 0x41, 16, ADD, ...tee(9), ...get(5), 0x47, 0x0d, 0, // yp += 16; continue while yp != ytEnd
    0x0b,
    ...get(0), ...get(3), ADD, ...set(0), // src += planeBytes
    ...get(2), 0x41, 1, 0x6b, ...tee(2), 0x0d, 0, // continue while --planes
    0x0b,
    0x0b,
  ];
}

function module(useSimd: boolean): Uint8Array {
  const code = useSimd ? simdBody() : scalarBody();
  return wasmModule([
    [SECTION.type, [1, 0x60, 9, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]],
    [SECTION.function, [1, 0]],
    [SECTION.memory, [1, 0, 1]],
    [SECTION.export, [2, ...name('mem'), 2, 0, ...name('lin'), 0, 0]],
    [SECTION.code, [1, ...funcBody(code)]],
  ]);
}

interface Kernel {
  exports: WasmExports;
  buffer: ArrayBuffer;
  f32: Float32Array;
  i32: Int32Array;
  simd: boolean;
}

let kernel: Kernel | null | undefined;
let enabled = true;
let simdAllowed = true;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  let withSimd = simdAllowed;
  let exports = withSimd ? instantiateWasm<WasmExports>(module(true)) : null;
  if (!exports) {
    // No WebAssembly SIMD here: the scalar body.
    withSimd = false;
    exports = instantiateWasm<WasmExports>(module(false));
  }
  // No WebAssembly here (or compilation disabled): the plain loop is used.
  if (!exports) return (kernel = null);
  const buffer = exports.mem.buffer;
  return (kernel = { exports, buffer, f32: new Float32Array(buffer), i32: new Int32Array(buffer), simd: withSimd });
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

/**
 * For tests: use the SIMD body (true, where the engine has SIMD) or the scalar one; drops the instance so the next
 * call builds the chosen one. Returns whether the body now loaded is the SIMD one.
 */
export function useResizeWasmSimd(on: boolean): boolean {
  simdAllowed = on;
  kernel = undefined;
  return load()?.simd === true;
}

/** Bytes of an x table of n entries. */
const xTableBytes = (k: Kernel, n: number) => (k.simd ? 64 * Math.ceil(n / 4) : 16 * n);

/** The x table for the SIMD body: groups of four x1 offsets, four x2 offsets, four dx1, four dx2; zero padded. */
function writeGroups(k: Kernel, at: number, axis: LinearAxis): void {
  const { i1, i2, d1, d2 } = axis;
  const n = i1.length;
  const iw = k.i32;
  const fw = k.f32;
  const j0 = at >>> 2;
  iw.fill(0, j0, j0 + 16 * Math.ceil(n / 4));
  for (let t = 0; t < n; t++) {
    const j = j0 + 16 * (t >> 2) + (t & 3);
    iw[j] = 4 * i1[t]!;
    iw[j + 4] = 4 * i2[t]!;
    fw[j + 8] = d1[t]!;
    fw[j + 12] = d2[t]!;
  }
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
  const data = xt + xTableBytes(k, ow);
  const inPlane = h * w;
  const outPlane = oh * ow;
  if (planes * (inPlane + outPlane) <= 2 * CHUNK) {
    // All planes at once: one copy in, one call, one copy out.
    const out = data + 4 * planes * inPlane;
    if (!ensure(k, out + 4 * planes * outPlane + 16)) return false;
    writeTable(k, yt, yAxis, 4 * w);
    if (k.simd) writeGroups(k, xt, xAxis);
    else writeTable(k, xt, xAxis, 4);
    k.f32.set(x.length === planes * inPlane ? x : x.subarray(0, planes * inPlane), data >>> 2);
    k.exports.lin(data, out, planes, 4 * inPlane, yt, xt, xt, data, 4 * ow);
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
  if (!ensure(k, out + 4 * rows * ow + 16)) return false;
  writeTable(k, yt, yAxis, 4 * w);
  if (k.simd) writeGroups(k, xt, xAxis);
  else writeTable(k, xt, xAxis, 4);
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
      k.exports.lin((data - 4 * lo * w) | 0, out, 1, 0, yt + 16 * y0, yt + 16 * y1, xt, data, 4 * ow);
      dst.set(f32.subarray(out >>> 2, (out >>> 2) + (y1 - y0) * ow), p * outPlane + y0 * ow);
    }
  }
  return true;
}
