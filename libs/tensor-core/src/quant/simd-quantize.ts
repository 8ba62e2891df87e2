// A WebAssembly SIMD body for the hottest kernel, 8-bit per-run QuantizeLinear, with the plain loop in
// quantize-linear.ts as its reference (tests compare both bit for bit, and against onnxruntime). The module is
// assembled here from opcodes (no toolchain, no binary blob) and runs on Node and in browsers alike; where
// WebAssembly or SIMD is missing, callers fall back to the plain loop.
//
// Per 4 lanes: f32x4.div (IEEE float32 division, as Math.fround(x / s)), pmax(lo, v) (NaN -> lo), pmin(hi, v),
// then + 1.5 * 2^23: the clamped value is within 255 of 0, so the float32 sum lies in [2^23, 2^24), where the
// spacing is 1, and the add itself rounds half to even; the sum's bits minus (the magic's bits - zero point) are
// the quantized integer (one add and one integer subtract in place of nearest, trunc_sat and + zero point, which
// measured 40 % faster). Then saturating narrows to 8 bits (the values are already in range, so they only repack).
// A reciprocal multiply instead of the division (exact except near ties, which a per-group check would redo)
// measured slower: the division is not what bounds this loop.
//
// A third function, mm, is DynamicQuantizeLinear's range pass: per 16 lanes, four independent pmin(acc, v) and
// pmax(acc, v) accumulators (v < acc ? v : acc, so NaN inputs are skipped exactly as the plain loop's `v < min`
// skips them), loaded from and stored back to ACC so the range carries across chunks. The accumulators start at
// 0, which is the ONNX widening of the range to include 0; the same fact lets a short chunk be padded with zeros.

import { SECTION, funcBody, get, instantiateWasm, leb, name, set, simd, sleb, tee, wasmModule, type WasmMemory } from '../wasm/assembler';

interface WasmExports {
  mem: WasmMemory;
  qs8: (src: number, dst: number, n: number, scale: number, lo: number, hi: number, zp: number) => void;
  qu8: (src: number, dst: number, n: number, scale: number, lo: number, hi: number, zp: number) => void;
  mm: (src: number, n: number) => void;
}

/** Elements per call: the input chunk (256 KiB) and output chunk (64 KiB) fill the module's 5 pages. */
export const SIMD_CHUNK = 65536;
const OUT = SIMD_CHUNK * 4;
/** Where mm keeps its min (4 lanes) and max (4 lanes) accumulators: the start of the output area, idle then. */
const ACC = OUT;

function module(): Uint8Array {
  // One 4-lane group at byte offset `off` of the source pointer (local 0), left as 4 x i32 quantized values.
  const lanes = (off: number) => [
    ...get(9), ...get(8), ...get(0), ...simd(0x00), 0, off, ...get(7), ...simd(0xe7), ...simd(0xeb), ...simd(0xea),
    ...get(11), ...simd(0xe4), ...get(10), ...simd(0xb1),
  ];
  const body = (narrow8: number) => {
    const code = [
      1, 5, 0x7b, // locals: 5 x v128 (scale, lo, hi splats, magic bits - zp, magic)
      ...get(3), ...simd(0x13), ...set(7),
      ...get(4), ...simd(0x13), ...set(8),
      ...get(5), ...simd(0x13), ...set(9),
      0x41, ...sleb(0x4b400000), ...get(6), 0x6b, ...simd(0x11), ...set(10),
      0x43, 0x00, 0x00, 0x40, 0x4b, ...simd(0x13), ...set(11),
      0x02, 0x40, 0x03, 0x40, // block, loop
      ...get(2), 0x45, 0x0d, 1, // exit when n == 0
      ...get(1),
      ...lanes(0), ...lanes(16), ...simd(0x85),
      ...lanes(32), ...lanes(48), ...simd(0x85),
      ...simd(narrow8), ...simd(0x0b), 0, 0, // v128.store
      ...get(0), 0x41, 0xc0, 0x00, 0x6a, ...set(0), // src += 64
      ...get(1), 0x41, 16, 0x6a, ...set(1), // dst += 16
      ...get(2), 0x41, 16, 0x6b, ...set(2), // n -= 16
      0x0c, 0, 0x0b, 0x0b, 0x0b, // br loop; end loop; end block; end function
    ];
    return funcBody(code);
  };
  // mm(src, n): params 0 (src), 1 (n); locals 2-5 min accumulators, 6-9 max accumulators, 10 the loaded lanes.
  const range = () => {
    const turn: number[] = [];
    for (let j = 0; j < 4; j++) {
      turn.push(...get(2 + j), ...get(0), ...simd(0x00), 0, 16 * j, ...tee(10), ...simd(0xea), ...set(2 + j));
      turn.push(...get(6 + j), ...get(10), ...simd(0xeb), ...set(6 + j));
    }
    const code = [
      1, 9, 0x7b, // locals: 9 x v128
      0x41, 0, ...simd(0x00), 0, ...leb(ACC), ...tee(2), ...tee(3), ...tee(4), ...set(5),
      0x41, 0, ...simd(0x00), 0, ...leb(ACC + 16), ...tee(6), ...tee(7), ...tee(8), ...set(9),
      0x02, 0x40, 0x03, 0x40, // block, loop
      ...get(1), 0x45, 0x0d, 1, // exit when n == 0
      ...turn,
      ...get(0), 0x41, 0xc0, 0x00, 0x6a, ...set(0), // src += 64
      ...get(1), 0x41, 16, 0x6b, ...set(1), // n -= 16
      0x0c, 0, 0x0b, 0x0b, // br loop; end loop; end block
      0x41, 0, ...get(2), ...get(3), ...simd(0xea), ...get(4), ...get(5), ...simd(0xea), ...simd(0xea), ...simd(0x0b), 0, ...leb(ACC),
      0x41, 0, ...get(6), ...get(7), ...simd(0xeb), ...get(8), ...get(9), ...simd(0xeb), ...simd(0xeb), ...simd(0x0b), 0, ...leb(ACC + 16),
      0x0b, // end function
    ];
    return funcBody(code);
  };
  const bodies = [body(0x65), body(0x66), range()];
  return wasmModule([
    [SECTION.type, [2, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7d, 0x7d, 0x7d, 0x7f, 0, 0x60, 2, 0x7f, 0x7f, 0]],
    [SECTION.function, [3, 0, 0, 1]],
    [SECTION.memory, [1, 0, 5]],
    [SECTION.export, [4, ...name('mem'), 2, 0, ...name('qs8'), 0, 0, ...name('qu8'), 0, 1, ...name('mm'), 0, 2]],
    [SECTION.code, [3, ...bodies[0]!, ...bodies[1]!, ...bodies[2]!]],
  ]);
}

interface Kernel {
  exports: WasmExports;
  f32: Float32Array;
  i8: Int8Array;
  u8: Uint8Array;
  acc: Float32Array;
}

let kernel: Kernel | null | undefined;
let enabled = true;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  // Null where there is no WebAssembly SIMD (old engine, or compilation disabled): the plain loop is used.
  const exports = instantiateWasm<WasmExports>(module());
  if (!exports) return (kernel = null);
  const buf = exports.mem.buffer;
  return (kernel = {
    exports,
    f32: new Float32Array(buf, 0, SIMD_CHUNK),
    i8: new Int8Array(buf, OUT, SIMD_CHUNK),
    u8: new Uint8Array(buf, OUT, SIMD_CHUNK),
    acc: new Float32Array(buf, ACC, 8),
  });
}

/** Turn the SIMD path on or off (tests compare it with the plain loop); returns the previous setting. */
export function setSimdEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the SIMD path is enabled and available on this engine. */
export function simdAvailable(): boolean {
  return enabled && load() !== null;
}

/**
 * Quantize x[start, start + n) into out[start, ...) with the SIMD kernel, n a multiple of 16; returns false
 * (doing nothing) when the kernel is unavailable. lo/hi are qmin - zp and qmax - zp.
 */
export function quantize8Simd(
  x: Float32Array,
  start: number,
  n: number,
  scale: number,
  lo: number,
  hi: number,
  zp: number,
  out: Int8Array | Uint8Array,
): boolean {
  const k = enabled ? load() : null;
  if (!k) return false;
  const signed = out instanceof Int8Array;
  const fn = signed ? k.exports.qs8 : k.exports.qu8;
  for (let off = 0; off < n; off += SIMD_CHUNK) {
    const len = Math.min(SIMD_CHUNK, n - off);
    k.f32.set(x.subarray(start + off, start + off + len));
    fn(0, OUT, len, scale, lo, hi, zp);
    if (signed) (out as Int8Array).set(k.i8.subarray(0, len), start + off);
    else (out as Uint8Array).set(k.u8.subarray(0, len), start + off);
  }
  return true;
}

/** DynamicQuantizeLinear's range, and where in x the chunk rangeSimd left in the module's input area starts. */
export interface SimdRange {
  min: number;
  max: number;
  last: number;
}

/**
 * DynamicQuantizeLinear's range of x with the SIMD kernel: [min(x), max(x)] with NaN skipped and widened to
 * include 0, as the plain loop computes it; null (doing nothing) when the kernel is unavailable. A zero's sign
 * may differ from the plain loop's (-0 vs 0), which neither the scale nor the zero point can see.
 */
export function rangeSimd(x: Float32Array): SimdRange | null {
  const k = enabled ? load() : null;
  if (!k) return null;
  const n = x.length;
  k.acc.fill(0);
  let last = 0;
  for (let off = 0; off < n; off += SIMD_CHUNK) {
    const len = Math.min(SIMD_CHUNK, n - off);
    k.f32.set(len === n ? x : x.subarray(off, off + len));
    const padded = (len + 15) & ~15;
    // Zeros past the end cannot move a range that already holds 0.
    if (padded !== len) k.f32.fill(0, len, padded);
    k.exports.mm(0, padded);
    last = off;
  }
  const a = k.acc;
  let min = a[0]!;
  let max = a[4]!;
  for (let i = 1; i < 4; i++) {
    if (a[i]! < min) min = a[i]!;
    if (a[4 + i]! > max) max = a[4 + i]!;
  }
  return { min, max, last };
}

/**
 * uint8 quantize8Simd of x[0, n) (n a multiple of 16) called directly after rangeSimd(x), with its `last`: the
 * chunks run last to first, so the first one needs no copy in (rangeSimd left it there) and the next ones are the
 * most recently read, still in cache on large inputs.
 */
export function quantize8SimdAfterRange(
  x: Float32Array,
  n: number,
  last: number,
  scale: number,
  lo: number,
  hi: number,
  zp: number,
  out: Uint8Array,
): boolean {
  const k = enabled ? load() : null;
  if (!k) return false;
  for (let off = n - 1 - ((n - 1) % SIMD_CHUNK); off >= 0 && n > 0; off -= SIMD_CHUNK) {
    const len = Math.min(SIMD_CHUNK, n - off);
    if (off !== last) k.f32.set(x.subarray(off, off + len));
    k.exports.qu8(0, OUT, len, scale, lo, hi, zp);
    out.set(len === SIMD_CHUNK ? k.u8 : k.u8.subarray(0, len), off);
    last = -1;
  }
  return true;
}
