// WebAssembly SIMD bodies for the bulk float16 / bfloat16 conversions, with the plain loops in float16.ts as
// their reference (tests compare both bit for bit on every special value, all 65,536 half patterns and random
// words). The module is assembled here from opcodes (no toolchain, no binary blob), as quant/simd-quantize.ts
// does, and runs on Node and in browsers alike; where WebAssembly SIMD is missing, callers use the plain loops.
//
// float32 -> float16, 4 lanes at a time on the integer bits of |x|, with no branches:
//   normal:    (abs - (112 << 23) + 0xfff + lowest kept bit) >> 13, capped at 0x7c00 (round half to even; a
//              carry bumps the exponent; everything from 65520 up, Infinity included, lands on the cap)
//   subnormal: bits(f32(abs) + 0.5) - bits(0.5), capped at 0x400: the float32 add rounds to a multiple of
//              2^-24 half to even, exactly the float16 subnormal step (WebAssembly float arithmetic keeps
//              subnormals, never flushes them, and the lanes where it could meet a NaN are discarded)
//   the larger of the two is right in both ranges; NaN lanes then take 0x7e00 | top 10 payload bits, and the
//   sign bits (the high halves of the 8 input words, shuffled together) are ORed in after narrowing to 16 bits.
// float16 -> float32 is exact: (em << 13) + (112 << 23), another + (112 << 23) for Infinity / NaN (payload kept),
// and for subnormals bits(f32(that + (1 << 23)) - 2^-14), an exact float32 subtraction.
// bfloat16 is the integer rounding of float16.ts, per lane; bfloat16 -> float32 is a widen and a shift.

interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type Kernel3 = (src: number, dst: number, n: number) => void;
interface WasmExports {
  mem: WasmMemory;
  f32f16: Kernel3;
  f16f32: Kernel3;
  f32bf16: Kernel3;
  bf16f32: Kernel3;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Elements per call: 256 KiB of float32 in and up to 256 KiB out, small enough to stay in L2 between copies. */
export const F16_CHUNK = 65536;
const OUT = F16_CHUNK * 4;
const PAGES = (F16_CHUNK * 8) / 65536;

const simd = (op: number) => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
// Constants live in v128 locals set once before the loop: V8 builds a v128.const from immediates in several
// instructions, a local read is a register (or one stack load).
let consts: number[] = [];
const CONST_BASE = 7;
/** The same 32-bit word in all four lanes (a hoisted local of the function being built). */
const splat = (w: number) => {
  let i = consts.indexOf(w >>> 0);
  if (i < 0) i = consts.push(w >>> 0) - 1;
  return get(CONST_BASE + i);
};
const constPrologue = () =>
  consts.flatMap((w, i) => {
    const b = [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, (w >>> 24) & 255];
    return [...simd(0x0c), ...b, ...b, ...b, ...b, ...set(CONST_BASE + i)];
  });
const i32 = (v: number) => [0x41, ...sleb(v)];
const load = (local: number, off: number) => [...get(local), ...simd(0x00), 0, ...leb(off)];
const store = (off: number) => [...simd(0x0b), 0, ...leb(off)];
const AND = simd(0x4e);
const OR = simd(0x50);
const SELECT = simd(0x52); // bitselect(a, b, mask) = mask ? a : b
const LT_S = simd(0x39);
const GT_S = simd(0x3b);
const SHL = simd(0xab);
const SHR_U = simd(0xad);
const SHR_S = simd(0xac);
const ADD = simd(0xae);
const SUB = simd(0xb1);
const MIN_S = simd(0xb6);
const MIN_U = simd(0xb7);
const MAX_S = simd(0xb8);
const F_ADD = simd(0xe4);
const F_SUB = simd(0xe5);
const NARROW_U = simd(0x86); // i16x8.narrow_i32x4_u (values are already in 0..0xffff)
const EXT_LO = simd(0xa9); // i32x4.extend_low_i16x8_u
const EXT_HI = simd(0xaa);

// Locals: 0 src, 1 dst, 2 n (i32); 3.. v128 scratch.
const X = 3;
const A = 4;
const T = 5;

/**
 * float16 bits, sign not yet applied, (in i32 lanes) of the 4 float32 words at src + off, which stay in local x.
 * The normal formula (arithmetic shift) never exceeds the true code below 2^-14 and the subnormal one, capped
 * at 0x400, never exceeds it above, so a max picks the right one; NaN lanes (masked) win a second max.
 */
const f16Lanes = (off: number, x: number) => [
  ...load(0, off), ...tee(x), ...splat(0x7fffffff), ...AND, ...tee(A), ...i32(13), ...SHR_U, ...set(T),
  ...get(A), ...splat(0xc8000fff), ...ADD, ...get(T), ...splat(1), ...AND, ...ADD, ...i32(13), ...SHR_S,
  ...splat(0x7c00), ...MIN_S, // normal result, capped at Infinity
  ...get(A), ...splat(0x3f000000), ...F_ADD, ...splat(0x3f000000), ...SUB, ...splat(0x400), ...MIN_U, // subnormal
  ...MAX_S,
  ...get(T), ...splat(0x3ff), ...AND, ...splat(0x7e00), ...OR, ...get(A), ...splat(0x7f800000), ...GT_S, ...AND,
  ...MAX_S,
];
/** The sign bits of the 8 float32 words in locals a and b, in 16-bit lanes. */
const signs16 = (a: number, b: number) => [
  ...get(a), ...get(b), ...simd(0x0d), 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31,
  ...splat(0x80008000), ...AND,
];

/** bfloat16 bits (in i32 lanes) of the 4 float32 words at src + off. */
const bf16Lanes = (off: number) => [
  ...load(0, off), ...tee(X), ...i32(16), ...SHR_U, ...tee(T),
  ...splat(0x8000), ...AND, ...splat(0x7fc0), ...OR, // NaN result
  ...get(X), ...splat(0x7fff), ...ADD, ...get(T), ...splat(1), ...AND, ...ADD, ...i32(16), ...SHR_U,
  ...get(X), ...splat(0x7fffffff), ...AND, ...splat(0x7f800000), ...GT_S, ...SELECT,
];

/** float32 words of the 4 float16 values in i32 lanes on the stack, stored at dst + off. */
const f32FromF16 = (off: number) => [
  ...set(X),
  ...get(X), ...splat(0x7fff), ...AND, ...tee(A), ...i32(13), ...SHL, ...splat(0x38000000), ...ADD, ...set(T),
  ...get(T), ...splat(0x38000000), ...ADD, // Infinity / NaN
  ...get(T), ...splat(0x00800000), ...ADD, ...splat(0x38800000), ...F_SUB, // subnormal (and zero)
  ...get(T), ...get(A), ...splat(0x400), ...LT_S, ...SELECT,
  ...get(A), ...splat(0x7bff), ...GT_S, ...SELECT,
  ...get(X), ...i32(16), ...SHL, ...splat(0x80000000), ...AND, ...OR,
  ...store(off),
];

/** One loop of 8 elements per turn; `step` emits the turn's loads, math and stores. */
function body(step: () => number[], srcStep: number, dstStep: number): number[] {
  consts = [];
  const turn = step();
  const code = [
    1, CONST_BASE - 3 + consts.length, 0x7b, // v128 scratch locals, then the constants
    ...constPrologue(),
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(2), 0x45, 0x0d, 1, // exit when n == 0
    ...turn,
    ...get(0), ...i32(srcStep), 0x6a, ...set(0),
    ...get(1), ...i32(dstStep), 0x6a, ...set(1),
    ...get(2), ...i32(8), 0x6b, ...set(2),
    0x0c, 0, 0x0b, 0x0b, 0x0b, // br loop; end loop; end block; end function
  ];
  return [...leb(code.length), ...code];
}

function module(): Uint8Array {
  const L = 6; // the 8 loaded 16-bit values; the second group's float32 words when narrowing
  const narrowStore = (lanes: (off: number) => number[]) => [...get(1), ...lanes(0), ...lanes(16), ...NARROW_U, ...store(0)];
  const narrowF16 = () => [...get(1), ...f16Lanes(0, X), ...f16Lanes(16, L), ...NARROW_U, ...signs16(X, L), ...OR, ...store(0)];
  const widen = (shift: boolean) => {
    const half = (ext: number[], off: number) =>
      shift ? [...get(1), ...get(L), ...ext, ...i32(16), ...SHL, ...store(off)] : [...get(1), ...get(L), ...ext, ...f32FromF16(off)];
    return [...load(0, 0), ...set(L), ...half(EXT_LO, 0), ...half(EXT_HI, 16)];
  };
  const bodies = [
    body(narrowF16, 32, 16),
    body(() => widen(false), 16, 32),
    body(() => narrowStore(bf16Lanes), 32, 16),
    body(() => widen(true), 16, 32),
  ];
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [4, 0, 0, 0, 0]),
    ...section(5, [1, 0, PAGES]),
    ...section(7, [5, ...name('mem'), 2, 0, ...name('f32f16'), 0, 0, ...name('f16f32'), 0, 1, ...name('f32bf16'), 0, 2, ...name('bf16f32'), 0, 3]),
    ...section(10, [4, ...bodies.flat()]),
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

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

interface Kernel {
  exports: WasmExports;
  f32: Float32Array;
  u16In: Uint16Array;
  f32Out: Float32Array;
  u16Out: Uint16Array;
}

let kernel: Kernel | null | undefined;
let enabled = true;

function load16(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wa) return (kernel = null);
    const exports = new wa.Instance(new wa.Module(module()), {}).exports as WasmExports;
    const buf = exports.mem.buffer;
    kernel = {
      exports,
      f32: new Float32Array(buf, 0, F16_CHUNK),
      u16In: new Uint16Array(buf, 0, F16_CHUNK),
      f32Out: new Float32Array(buf, OUT, F16_CHUNK),
      u16Out: new Uint16Array(buf, OUT, F16_CHUNK),
    };
  } catch {
    // No WebAssembly SIMD here (old engine, or compilation disabled): the plain loops are used.
    kernel = null;
  }
  return kernel;
}

/** Turn the float16 SIMD path on or off (tests compare it with the plain loops); returns the previous setting. */
export function setFloat16SimdEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the float16 SIMD path is enabled and available on this engine. */
export function float16SimdAvailable(): boolean {
  return enabled && load16() !== null;
}

/**
 * float32 -> 16-bit patterns (float16 when `bf` is false, else bfloat16) of src[0, n) into dst with the SIMD
 * kernel; returns false (doing nothing) when it is unavailable. A chunk's length is rounded up to 8 lanes: the
 * extra lanes convert stale words and are never copied out.
 */
export function narrowSimd(src: Float32Array, dst: Uint16Array, n: number, bf: boolean): boolean {
  const k = enabled ? load16() : null;
  if (!k) return false;
  const fn = bf ? k.exports.f32bf16 : k.exports.f32f16;
  for (let off = 0; off < n; off += F16_CHUNK) {
    const len = Math.min(F16_CHUNK, n - off);
    k.f32.set(len === src.length ? src : src.subarray(off, off + len));
    fn(0, OUT, (len + 7) & ~7);
    dst.set(len === F16_CHUNK ? k.u16Out : k.u16Out.subarray(0, len), off);
  }
  return true;
}

/** 16-bit patterns -> float32 words (float16 when `bf` is false, else bfloat16), as narrowSimd. */
export function widenSimd(src: Uint16Array, dst: Float32Array, n: number, bf: boolean): boolean {
  const k = enabled ? load16() : null;
  if (!k) return false;
  const fn = bf ? k.exports.bf16f32 : k.exports.f16f32;
  for (let off = 0; off < n; off += F16_CHUNK) {
    const len = Math.min(F16_CHUNK, n - off);
    k.u16In.set(len === src.length ? src : src.subarray(off, off + len));
    fn(0, OUT, (len + 7) & ~7);
    dst.set(len === F16_CHUNK ? k.f32Out : k.f32Out.subarray(0, len), off);
  }
  return true;
}
