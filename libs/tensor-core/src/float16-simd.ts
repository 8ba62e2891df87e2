// WebAssembly SIMD bodies for the bulk float16 / bfloat16 conversions (the module: float16-simd-module.ts), with
// the plain loops in float16.ts as their reference: tests compare both bit for bit on every exponent, tie and
// special value, all 65,536 16-bit patterns and millions of spread float32 words. Runs on Node and in browsers
// alike; where WebAssembly SIMD is missing, callers use the plain loops. Data crosses in chunks: copy in,
// convert, copy out (a module cannot read a JS buffer), each chunk small enough to stay in cache.
import { F16_CHUNK, F16_LANES_PER_TURN, F16_OUT, float16Module } from './float16-simd-module';
import { instantiateWasm, type WasmMemory } from './wasm/assembler';

export { F16_CHUNK };

type Kernel3 = (src: number, dst: number, n: number) => void;
interface WasmExports {
  mem: WasmMemory;
  f32f16: Kernel3;
  f16f32: Kernel3;
  f32bf16: Kernel3;
  bf16f32: Kernel3;
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
  // Null where there is no WebAssembly SIMD (old engine, or compilation disabled): the plain loops are used.
  const exports = instantiateWasm<WasmExports>(float16Module());
  if (!exports) return (kernel = null);
  const buf = exports.mem.buffer;
  return (kernel = {
    exports,
    f32: new Float32Array(buf, 0, F16_CHUNK),
    u16In: new Uint16Array(buf, 0, F16_CHUNK),
    f32Out: new Float32Array(buf, F16_OUT, F16_CHUNK),
    u16Out: new Uint16Array(buf, F16_OUT, F16_CHUNK),
  });
}

/** n rounded up to whole loop turns; the extra lanes convert stale words and are never copied out. */
const roundUp = (n: number) => Math.ceil(n / F16_LANES_PER_TURN) * F16_LANES_PER_TURN;

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
 * kernel; returns false (doing nothing) when it is unavailable. A chunk's length is rounded up to whole loop turns
 * (64 lanes): the extra lanes convert stale words and are never copied out.
 */
export function narrowSimd(src: Float32Array, dst: Uint16Array, n: number, bf: boolean): boolean {
  const k = enabled ? load16() : null;
  if (!k) return false;
  const fn = bf ? k.exports.f32bf16 : k.exports.f32f16;
  for (let off = 0; off < n; off += F16_CHUNK) {
    const len = Math.min(F16_CHUNK, n - off);
    k.f32.set(len === src.length ? src : src.subarray(off, off + len));
    fn(0, F16_OUT, roundUp(len));
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
    fn(0, F16_OUT, roundUp(len));
    dst.set(len === F16_CHUNK ? k.f32Out : k.f32Out.subarray(0, len), off);
  }
  return true;
}
