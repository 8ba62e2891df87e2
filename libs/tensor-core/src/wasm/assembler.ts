// The shared pieces of the hand-assembled WebAssembly kernels (quant/simd-quantize.ts, float16-simd-module.ts,
// transform/resize-wasm.ts): LEB128 integers, sections, names, the module header, a few opcode helpers, and the
// loader that instantiates a module or answers null, so that each kernel can fall back to its plain loop. No
// toolchain and no binary blob: each kernel lists its own opcodes. Platform-neutral: WebAssembly is looked up on
// globalThis at run time (the library's lib settings declare no WebAssembly types).

/** Unsigned LEB128 of a non-negative 32-bit integer. */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 32-bit integer (an i32.const immediate). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** A section: its id, then its contents' byte length, then the contents. */
export function section(id: number, bytes: readonly number[]): number[] {
  return [id, ...leb(bytes.length), ...bytes];
}

/** A name (an export's): its length, then its characters (ASCII). */
export function name(s: string): number[] {
  return [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** Section ids, in the order a module must list them. */
export const SECTION = { type: 1, function: 3, memory: 5, export: 7, code: 10 } as const;

/** The magic "\0asm" and version 1. */
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module's bytes: the header, then each [id, contents] as a section, in the order given. */
export function wasmModule(sections: readonly (readonly [id: number, bytes: readonly number[]])[]): Uint8Array {
  return Uint8Array.from([...HEADER, ...sections.flatMap(([id, bytes]) => section(id, bytes))]);
}

/** A code section entry: the body's byte length, then the body (its locals, then its instructions). */
export function funcBody(code: readonly number[]): number[] {
  return [...leb(code.length), ...code];
}

/** SIMD instruction `op` (0xfd prefix, opcode as LEB128; all current ones fit in two bytes). */
export const simd = (op: number): number[] => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
/** local.get / local.set / local.tee of local i (< 128). */
export const get = (i: number): number[] => [0x20, i];
export const set = (i: number): number[] => [0x21, i];
export const tee = (i: number): number[] => [0x22, i];

/** The exported memory, as the kernels use it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/**
 * Compiles and instantiates `bytes` (no imports) with this engine's WebAssembly; null when there is none, or it
 * rejects the module (no SIMD on an old engine, compilation disabled): the caller then uses its plain loop.
 */
export function instantiateWasm<E>(bytes: Uint8Array): E | null {
  const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wa) return null;
  try {
    return new wa.Instance(new wa.Module(bytes), {}).exports as E;
  } catch {
    return null;
  }
}
