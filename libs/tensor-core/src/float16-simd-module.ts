// The WebAssembly module behind float16-simd.ts, assembled from opcodes (no toolchain, no binary blob) as
// quant/simd-quantize.ts does. Four exported functions (src, dst, n), n a multiple of F16_LANES_PER_TURN, over one
// memory: input at byte 0, output at byte F16_OUT. Each loop turn converts 64 elements: 8 groups of 8, written out
// one after the other (same operations per group, other offsets). Unrolled, the loop's counter updates and branch
// are paid once per 64 and V8 can overlap the groups: float32 -> float16 converts 1.8 -> 2.9 Gelem/s in cache.
//
// float32 -> float16, 8 lanes a turn, on the integer bits of |x|:
//   normal:    (abs - (112 << 23) + 0xfff + lowest kept bit) >> 13 (round half to even; a carry bumps the
//              exponent)
//   subnormal: bits(f32(abs) + 0.5) - bits(0.5), capped at 0x400: the float32 add rounds to a multiple of
//              2^-24 half to even, exactly the float16 subnormal step (WebAssembly float arithmetic keeps
//              subnormals, never flushes them, and the lanes where it could meet a NaN are discarded)
//   the larger of the two is right in both ranges. Then one test per turn: only when some |x| >= 65520 (rare)
//   does a branch cap the codes at 0x7c00 (Infinity) and give NaN lanes 0x7e00 | their top 10 payload bits.
//   Last, the sign bits (the high halves of the 8 input words, shuffled together) are ORed into the 16-bit codes.
// float16 -> float32 is exact: o = (em << 13) + (112 << 23) for normals, bits(f32(o + (1 << 23)) - 2^-14) for
// subnormals (an exact subtraction), the smaller of the two being right for every finite value; only a turn
// holding Infinity / NaN takes the branch that adds another 112 << 23 there (NaN payload kept).
// float32 -> bfloat16 rounds the words at bit 16 with an integer add (ties to even) and keeps the high halves;
// only a turn holding a NaN redoes its lanes to give 0x7fc0 / 0xffc0. bfloat16 -> float32 is a widen and a shift.

import { SECTION, funcBody, get, leb, name, set, simd, sleb, tee, wasmModule } from './wasm/assembler';

/** Elements per call: 256 KiB of float32 in and up to 256 KiB out, small enough to stay in L2 between copies. */
export const F16_CHUNK = 65536;
/** Groups of 8 elements per loop turn. */
const UNROLL = 8;
/** Elements per loop turn: callers round n up to a multiple of it (F16_CHUNK is one). */
export const F16_LANES_PER_TURN = 8 * UNROLL;
/** Byte offset of the output region. */
export const F16_OUT = F16_CHUNK * 4;
const PAGES = (F16_CHUNK * 8) / 65536;

// Constants live in v128 locals set once before the loop: V8 builds a v128.const from immediates in several
// instructions, a local read is a register (or one stack load).
let consts: number[] = [];
const CONST_BASE = 9; // after the scratch locals below
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
const GT_S16 = simd(0x31);
const GT_S = simd(0x3b);
const SHL = simd(0xab);
const SHR_U = simd(0xad);
const SHR_S = simd(0xac);
const ADD = simd(0xae);
const SUB = simd(0xb1);
const MIN_U = simd(0xb7);
const MAX_S = simd(0xb8);
const F_ADD = simd(0xe4);
const F_SUB = simd(0xe5);
const ANY_TRUE = simd(0x53);
const MIN_U16 = simd(0x97);
const MAX_U16 = simd(0x99);
const NARROW_U = simd(0x86); // i16x8.narrow_i32x4_u (values are already in 0..0xffff)
const EXT_LO = simd(0xa9); // i32x4.extend_low_i16x8_u
const EXT_HI = simd(0xaa);

// Locals: 0 src, 1 dst, 2 n (i32); 3..8 v128 scratch; then the hoisted constants.
const X = 3;
const A = 4;
const T = 5;
const L = 6; // the 8 loaded 16-bit values; the second group's float32 words when narrowing
const A1 = 7; // |x| of the second group
const R = 8; // the 8 float16 codes of a turn

/**
 * float16 codes, sign not yet applied, in i32 lanes, of the 4 float32 words at src + off (kept in local x, |x| in
 * local a). The normal formula (arithmetic shift) never exceeds the true code below 2^-14 and the subnormal
 * one, capped at 0x400, never exceeds it above, so a max picks the right one. From 65520 up the code is too
 * large (the narrowing saturates it); the rare-path branch caps it.
 */
const f16Lanes = (off: number, x: number, a: number) => [
  ...load(0, off), ...tee(x), ...splat(0x7fffffff), ...AND, ...tee(a), ...i32(13), ...SHR_U, ...set(T),
  ...get(a), ...splat(0xc8000fff), ...ADD, ...get(T), ...splat(1), ...AND, ...ADD, ...i32(13), ...SHR_S,
  ...get(a), ...splat(0x3f000000), ...F_ADD, ...splat(0x3f000000), ...SUB, ...splat(0x400), ...MIN_U,
  ...MAX_S,
];
/** 0x7e00 | payload in the NaN lanes of |x| (local a), 0 elsewhere. */
const nanLanes = (a: number) => [
  ...get(a), ...i32(13), ...SHR_U, ...splat(0x3ff), ...AND, ...splat(0x7e00), ...OR,
  ...get(a), ...splat(0x7f800000), ...GT_S, ...AND,
];
/** All-ones lanes where |x| (local a) rounds to Infinity or is NaN. */
const bigLanes = (a: number) => [...get(a), ...splat(0x477fefff), ...GT_S];
/** The high 16 bits of the 8 words in locals a and b, as 16-bit lanes. */
const highHalves = (a: number, b: number) => [
  ...get(a), ...get(b), ...simd(0x0d), 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31,
];
/** The sign bits of the 8 float32 words in locals a and b, in 16-bit lanes. */
const signs16 = (a: number, b: number) => [...highHalves(a, b), ...splat(0x80008000), ...AND];
/** The 4 float32 words at src + off (into local x) rounded half to even at bit 16, NaNs aside. */
const bf16Rounded = (off: number, x: number) => [
  ...load(0, off), ...tee(x), ...i32(16), ...SHR_U, ...splat(1), ...AND, ...get(x), ...ADD, ...splat(0x7fff), ...ADD,
];
/** All-ones lanes where the word in local x is a NaN. */
const nanWords = (x: number) => [...get(x), ...splat(0x7fffffff), ...AND, ...splat(0x7f800000), ...GT_S];

/** bfloat16 bits (in i32 lanes) of the 4 float32 words at src + off, NaNs included (the rare path). */
const bf16Lanes = (off: number) => [
  ...load(0, off), ...tee(X), ...i32(16), ...SHR_U, ...tee(T),
  ...splat(0x8000), ...AND, ...splat(0x7fc0), ...OR, // NaN result
  ...get(X), ...splat(0x7fff), ...ADD, ...get(T), ...splat(1), ...AND, ...ADD, ...i32(16), ...SHR_U,
  ...get(X), ...splat(0x7fffffff), ...AND, ...splat(0x7f800000), ...GT_S, ...SELECT,
];

/**
 * float32 words of the 4 float16 values in i32 lanes on the stack, stored at dst + off. For finite values the
 * normal formula overshoots below 2^-14 and the subnormal one above, so the smaller is right (positive float
 * bits order as integers); Infinity / NaN (`special`, the rare path) take the exponent bump instead.
 */
const f32FromF16 = (off: number, special: boolean) => [
  ...set(X),
  ...get(X), ...splat(0x7fff), ...AND, ...tee(A), ...i32(13), ...SHL, ...splat(0x38000000), ...ADD, ...tee(T),
  ...get(T), ...splat(0x00800000), ...ADD, ...splat(0x38800000), ...F_SUB, // subnormal (and zero)
  ...MIN_U,
  ...(special ? [...set(R), ...get(T), ...splat(0x38000000), ...ADD, ...get(R), ...get(A), ...splat(0x7bff), ...GT_S, ...SELECT] : []),
  ...get(X), ...i32(16), ...SHL, ...splat(0x80000000), ...AND, ...OR,
  ...store(off),
];

/**
 * One loop of UNROLL groups of 8 elements per turn; `group(srcOff, dstOff)` emits one group's loads, math and
 * stores at those byte offsets from the turn's src and dst (srcBytes / dstBytes per group).
 */
function body(group: (srcOff: number, dstOff: number) => number[], srcBytes: number, dstBytes: number): number[] {
  consts = [];
  const turn = Array.from({ length: UNROLL }, (_, g) => group(g * srcBytes, g * dstBytes)).flat();
  const srcStep = srcBytes * UNROLL;
  const dstStep = dstBytes * UNROLL;
  const code = [
    1, CONST_BASE - 3 + consts.length, 0x7b, // v128 scratch locals, then the constants
    ...constPrologue(),
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(2), 0x45, 0x0d, 1, // exit when n == 0
    ...turn,
    ...get(0), ...i32(srcStep), 0x6a, ...set(0),
    ...get(1), ...i32(dstStep), 0x6a, ...set(1),
    ...get(2), ...i32(F16_LANES_PER_TURN), 0x6b, ...set(2),
    0x0c, 0, 0x0b, 0x0b, 0x0b, // br loop; end loop; end block; end function
  ];
  return funcBody(code);
}

/** The module's bytes: exports mem, f32f16, f16f32, f32bf16, bf16f32. */
export function float16Module(): Uint8Array {
  // Rounded words' high halves are the bfloat16 codes; only a turn holding a NaN redoes the lanes with NaN care.
  const narrowBf16 = (so: number, d: number) => [
    ...bf16Rounded(so, X), ...set(A), ...bf16Rounded(so + 16, L), ...set(T), ...highHalves(A, T), ...set(R),
    ...nanWords(X), ...nanWords(L), ...OR, ...ANY_TRUE,
    0x04, 0x40, ...bf16Lanes(so), ...bf16Lanes(so + 16), ...NARROW_U, ...set(R), 0x0b,
    ...get(1), ...get(R), ...store(d),
  ];
  const narrowF16 = (so: number, d: number) => [
    ...f16Lanes(so, X, A), ...f16Lanes(so + 16, L, A1), ...NARROW_U, ...set(R),
    ...bigLanes(A), ...bigLanes(A1), ...OR, ...ANY_TRUE,
    0x04, 0x40, // if: cap at Infinity, then NaN codes
    ...get(R), ...splat(0x7c007c00), ...MIN_U16, ...nanLanes(A), ...nanLanes(A1), ...NARROW_U, ...MAX_U16, ...set(R),
    0x0b,
    ...get(1), ...get(R), ...signs16(X, L), ...OR, ...store(d),
  ];
  const widen = (shift: boolean) => (so: number, d: number) => {
    const half = (ext: number[], off: number, special: boolean) =>
      shift ? [...get(1), ...get(L), ...ext, ...i32(16), ...SHL, ...store(off)] : [...get(1), ...get(L), ...ext, ...f32FromF16(off, special)];
    const both = (special: boolean) => [...half(EXT_LO, d, special), ...half(EXT_HI, d + 16, special)];
    if (shift) return [...load(0, so), ...set(L), ...both(false)];
    // One test per group: the Infinity / NaN path only runs when one of the 8 has the top exponent.
    return [
      ...load(0, so), ...tee(L), ...splat(0x7fff7fff), ...AND, ...splat(0x7bff7bff), ...GT_S16, ...ANY_TRUE,
      0x04, 0x40, ...both(true), 0x05, ...both(false), 0x0b, // if / else / end
    ];
  };
  const bodies = [
    body(narrowF16, 32, 16),
    body(widen(false), 16, 32),
    body(narrowBf16, 32, 16),
    body(widen(true), 16, 32),
  ];
  return wasmModule([
    [SECTION.type, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]],
    [SECTION.function, [4, 0, 0, 0, 0]],
    [SECTION.memory, [1, 0, PAGES]],
    [SECTION.export, [5, ...name('mem'), 2, 0, ...['f32f16', 'f16f32', 'f32bf16', 'bf16f32'].flatMap((f, i) => [...name(f), 0, i])]],
    [SECTION.code, [4, ...bodies.flat()]],
  ]);
}
