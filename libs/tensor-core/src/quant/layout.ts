import { checkInteger, checkLength, checkShape, invalid, normalizeAxis, product } from './validate';

/**
 * How scale and zero point map onto x, per ONNX QuantizeLinear/DequantizeLinear (opset 21): one value for the
 * whole tensor, one per index of `axis`, or blocks of `blockSize` consecutive indices along `axis` (the scale
 * then has x's shape with that dim replaced by ceil(dim / blockSize)). x is viewed as [outer, dim, inner].
 */
export interface QuantLayout {
  readonly kind: 'tensor' | 'axis' | 'block';
  readonly count: number;
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  readonly blockSize: number;
  /** Number of blocks along the axis (1 for per-tensor, dim for per-axis). */
  readonly blocks: number;
  /** Number of scale values. */
  readonly params: number;
}

export interface QuantAxisOptions {
  /** Axis for per-axis and blocked parameters (ONNX default 1; negative counts from the end). */
  axis?: number;
  /** Block size along the axis; 0 or absent means per-tensor or per-axis. */
  blockSize?: number;
}

export function resolveLayout(shape: readonly number[], scaleLength: number, options: QuantAxisOptions): QuantLayout {
  const count = checkShape('shape', shape);
  const rank = shape.length;
  const blockSize = options.blockSize ?? 0;
  checkInteger('blockSize', blockSize, 0, Number.MAX_SAFE_INTEGER);
  if (blockSize === 0 && scaleLength === 1 && options.axis === undefined) {
    return { kind: 'tensor', count, outer: 1, dim: 1, inner: count, blockSize: 0, blocks: 1, params: 1 };
  }
  if (rank === 0) {
    checkLength('scale', { length: scaleLength }, 1);
    return { kind: 'tensor', count, outer: 1, dim: 1, inner: count, blockSize: 0, blocks: 1, params: 1 };
  }
  const axis = normalizeAxis('axis', options.axis ?? 1, rank);
  const outer = product(shape, 0, axis);
  const dim = shape[axis]!;
  const inner = product(shape, axis + 1, rank);
  if (blockSize === 0) {
    if (scaleLength === 1) return { kind: 'tensor', count, outer: 1, dim: 1, inner: count, blockSize: 0, blocks: 1, params: 1 };
    if (scaleLength !== dim) {
      invalid('scale', `has ${scaleLength} values; expected 1 (per tensor) or ${dim} (per axis ${axis} of [${shape.join(', ')}])`);
    }
    return { kind: 'axis', count, outer, dim, inner, blockSize: 0, blocks: dim, params: dim };
  }
  const blocks = Math.ceil(dim / blockSize);
  const params = outer * blocks * inner;
  if (scaleLength !== params) {
    invalid('scale', `has ${scaleLength} values; blockSize ${blockSize} on axis ${axis} of [${shape.join(', ')}] needs ${params}`);
  }
  return { kind: 'block', count, outer, dim, inner, blockSize, blocks, params };
}
