import { checkLength, checkShape, normalizeAxis, product } from '../quant/validate';

/** x viewed as [outer, dim, inner] around `axis`; element (o, d, i) is at (o * dim + d) * inner + i. */
export interface AxisView {
  outer: number;
  dim: number;
  inner: number;
  count: number;
  axis: number;
}

export function axisView(x: { length: number }, shape: readonly number[], axis: number): AxisView {
  const count = checkShape('shape', shape);
  checkLength('x', x, count);
  if (shape.length === 0) return { outer: 1, dim: 1, inner: 1, count, axis: 0 };
  const a = normalizeAxis('axis', axis, shape.length);
  return { outer: product(shape, 0, a), dim: shape[a]!, inner: product(shape, a + 1, shape.length), count, axis: a };
}
