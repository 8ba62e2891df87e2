import { checkLength, checkShape, invalid } from '../quant/validate';

/** Any dense typed array (int4/uint4 packed storage is not accepted: unpack it first). */
export type DenseArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

type Indexable = { [i: number]: unknown; readonly length: number };

/** Shape after permuting: out[i] = shape[perm[i]]. */
export function permuteShape(shape: readonly number[], perm: readonly number[]): number[] {
  return perm.map((p) => shape[p]!);
}

function checkPerm(perm: readonly number[], rank: number): void {
  if (!Array.isArray(perm) || perm.length !== rank) invalid('perm', `has length ${perm?.length}; expected ${rank} (the rank)`);
  const seen = new Array<boolean>(rank).fill(false);
  for (let i = 0; i < rank; i++) {
    const p = perm[i]!;
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen[p]) {
      invalid('perm', `is [${perm.join(', ')}]; expected a permutation of 0..${rank - 1}`);
    }
    seen[p] = true;
  }
}

/**
 * ONNX Transpose: out has shape permuteShape(shape, perm) and out[j] = x[the source index]. Default perm reverses
 * the axes. Dims of size 1 are dropped and axes that stay adjacent are merged first, so NHWC <-> NCHW becomes a
 * (batched) 2-D transpose, done in cache-sized tiles.
 */
export function transpose<T extends DenseArray>(x: T, shape: readonly number[], perm?: readonly number[], out?: T): T {
  const rank = shape.length;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const count = checkShape('shape', shape);
  checkLength('x', x, count);
  checkPerm(p, rank);
  const ctor = x.constructor as new (n: number) => T;
  let dst: T;
  if (out === undefined) dst = new ctor(count);
  else {
    if (out.constructor !== x.constructor) invalid('out', `is a ${out.constructor.name}; expected a ${x.constructor.name} like x`);
    checkLength('out', out, count);
    dst = out;
  }
  if (count === 0) return dst;
  const [dims, order] = simplify(shape, p);
  transposeSimplified(x as Indexable, dims, order, dst as Indexable);
  return dst;
}

/** Drop size-1 dims and merge runs of input axes that stay consecutive in the output. */
function simplify(shape: readonly number[], perm: readonly number[]): [number[], number[]] {
  // Renumber the surviving axes 0..k-1 in input order, so axes separated only by dropped ones count as adjacent.
  const kept = shape.map((d, a) => (d === 1 ? -1 : a)).filter((a) => a >= 0);
  const rankOf = new Map(kept.map((a, r) => [a, r]));
  const groups: number[][] = [];
  for (const a of perm) {
    const r = rankOf.get(a);
    if (r === undefined) continue;
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1]! + 1 === r) last.push(r);
    else groups.push([r]);
  }
  const byInput = [...groups].sort((g, h) => g[0]! - h[0]!);
  const dims = byInput.map((g) => g.reduce((n, r) => n * shape[kept[r]!]!, 1));
  const order = groups.map((g) => byInput.indexOf(g));
  return [dims, order];
}

function transposeSimplified(x: Indexable, dims: number[], order: number[], out: Indexable): void {
  const rank = dims.length;
  if (rank <= 1) {
    for (let i = 0; i < x.length; i++) out[i] = x[i];
    return;
  }
  if (rank === 2 && order[0] === 1) return tile2d(x, 0, out, 0, dims[0]!, dims[1]!);
  if (rank === 3 && order[0] === 0 && order[1] === 2 && order[2] === 1) {
    const plane = dims[1]! * dims[2]!;
    for (let b = 0; b < dims[0]!; b++) tile2d(x, b * plane, out, b * plane, dims[1]!, dims[2]!);
    return;
  }
  generic(x, dims, order, out);
}

const TILE = 32;

/** out (cols x rows) = transpose of x (rows x cols), both starting at the given offsets. */
function tile2d(x: Indexable, xo: number, out: Indexable, oo: number, rows: number, cols: number): void {
  // Few columns (NHWC -> NCHW with C <= 4): one sequential read, `cols` sequential write streams.
  if (cols <= 4) {
    for (let c = 0; c < cols; c++) {
      const o = oo + c * rows;
      for (let r = 0, k = xo + c; r < rows; r++, k += cols) out[o + r] = x[k];
    }
    return;
  }
  // Few rows (NCHW -> NHWC with C <= 4): `rows` sequential read streams, one sequential write.
  if (rows <= 4) {
    for (let r = 0; r < rows; r++) {
      const i = xo + r * cols;
      for (let c = 0, k = oo + r; c < cols; c++, k += rows) out[k] = x[i + c];
    }
    return;
  }
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let c = c0; c < c1; c++) {
        const o = oo + c * rows;
        for (let r = r0; r < r1; r++) out[o + r] = x[xo + r * cols + c];
      }
    }
  }
}

// Scratch for the odometer; transposes of rank > 8 after simplification allocate their own.
const COUNTER = new Int32Array(8);
const STRIDE = new Int32Array(8);
const EXTENT = new Int32Array(8);

function generic(x: Indexable, dims: number[], order: number[], out: Indexable): void {
  const rank = dims.length;
  const big = rank > 8;
  const counter = big ? new Int32Array(rank) : COUNTER.fill(0);
  const stride = big ? new Int32Array(rank) : STRIDE;
  const extent = big ? new Int32Array(rank) : EXTENT;
  const inStride = new Array<number>(rank);
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) {
    inStride[a] = s;
    s *= dims[a]!;
  }
  for (let i = 0; i < rank; i++) {
    stride[i] = inStride[order[i]!]!;
    extent[i] = dims[order[i]!]!;
  }
  const lastN = extent[rank - 1]!;
  const lastS = stride[rank - 1]!;
  const total = x.length;
  let src = 0;
  for (let j = 0; j < total; ) {
    for (let k = 0; k < lastN; k++) out[j++] = x[src + k * lastS];
    // Advance the odometer over the outer output axes.
    for (let a = rank - 2; a >= 0; a--) {
      src += stride[a]!;
      if (++counter[a]! < extent[a]!) break;
      src -= stride[a]! * extent[a]!;
      counter[a] = 0;
    }
  }
}

/** NHWC -> NCHW (any rank >= 3: channels last to channels second). */
export function nhwcToNchw<T extends DenseArray>(x: T, shape: readonly number[], out?: T): T {
  const r = shape.length;
  if (r < 3) invalid('shape', `has rank ${r}; expected at least 3 ([N, ...spatial, C])`);
  return transpose(x, shape, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)], out);
}

/** NCHW -> NHWC (any rank >= 3). */
export function nchwToNhwc<T extends DenseArray>(x: T, shape: readonly number[], out?: T): T {
  const r = shape.length;
  if (r < 3) invalid('shape', `has rank ${r}; expected at least 3 ([N, C, ...spatial])`);
  return transpose(x, shape, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1], out);
}
