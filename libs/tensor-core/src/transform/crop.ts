import { checkLength, checkShape, invalid } from '../quant/validate';
import type { DenseArray } from './transpose';

/**
 * Copy the box [starts, starts + sizes) out of x (row-major, any rank); out has shape `sizes`.
 */
export function slice<T extends DenseArray>(x: T, shape: readonly number[], starts: readonly number[], sizes: readonly number[], out?: T): T {
  const rank = shape.length;
  checkLength('x', x, checkShape('shape', shape));
  if (starts.length !== rank || sizes.length !== rank) invalid('starts', `and sizes need ${rank} entries (the rank)`);
  for (let a = 0; a < rank; a++) {
    const s = starts[a]!;
    const n = sizes[a]!;
    if (!Number.isInteger(s) || !Number.isInteger(n) || s < 0 || n < 0 || s + n > shape[a]!) {
      invalid(`starts[${a}]`, `= ${s} with size ${n} leaves [0, ${shape[a]}) on axis ${a}`);
    }
  }
  const count = checkShape('sizes', sizes);
  const ctor = x.constructor as new (n: number) => T;
  const dst = out ?? new ctor(count);
  if (dst.constructor !== x.constructor) invalid('out', `is a ${dst.constructor.name}; expected a ${x.constructor.name}`);
  checkLength('out', dst, count);
  if (count === 0) return dst;
  if (rank === 0) {
    (dst as { [i: number]: unknown })[0] = (x as { [i: number]: unknown })[0];
    return dst;
  }
  const strides = new Array<number>(rank);
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  const rowLen = sizes[rank - 1]!;
  const rows = count / rowLen;
  const idx = new Array<number>(rank).fill(0);
  const src = x as unknown as { [i: number]: unknown };
  const target = dst as unknown as { [i: number]: unknown };
  for (let r = 0; r < rows; r++) {
    let off = 0;
    for (let a = 0; a < rank; a++) off += (starts[a]! + idx[a]!) * strides[a]!;
    const o = r * rowLen;
    for (let k = 0; k < rowLen; k++) target[o + k] = src[off + k];
    for (let a = rank - 2; a >= 0; a--) {
      if (++idx[a]! < sizes[a]!) break;
      idx[a] = 0;
    }
  }
  return dst;
}

/**
 * Centre crop of the last two axes ([..., H, W]) to [height, width]; the top-left corner is
 * floor((H - height) / 2), floor((W - width) / 2), as torchvision's CenterCrop places it for even margins.
 */
export function centerCrop<T extends DenseArray>(x: T, shape: readonly number[], size: readonly [number, number], out?: T): T {
  const rank = shape.length;
  if (rank < 2) invalid('shape', `has rank ${rank}; expected at least 2 ([..., H, W])`);
  const [ch, cw] = size;
  const h = shape[rank - 2]!;
  const w = shape[rank - 1]!;
  if (!Number.isInteger(ch) || !Number.isInteger(cw) || ch < 0 || cw < 0 || ch > h || cw > w) {
    invalid('size', `is [${ch}, ${cw}]; expected integers within the input's [${h}, ${w}]`);
  }
  const starts = shape.map((_, a) => (a === rank - 2 ? Math.floor((h - ch) / 2) : a === rank - 1 ? Math.floor((w - cw) / 2) : 0));
  const sizes = shape.map((d, a) => (a === rank - 2 ? ch : a === rank - 1 ? cw : d));
  return slice(x, shape, starts, sizes, out);
}
