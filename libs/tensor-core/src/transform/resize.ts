import { checkLength, checkShape, invalid, outputBuffer } from '../quant/validate';
import { resizeLinearWasm, type LinearAxis } from './resize-wasm';

export { resizeWasmAvailable, setResizeWasmEnabled } from './resize-wasm';

export type ResizeMode = 'nearest' | 'linear';
export type CoordinateMode = 'half_pixel' | 'align_corners' | 'asymmetric' | 'pytorch_half_pixel';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeOptions {
  /** Output [height, width]; or give `scales`. */
  size?: readonly [number, number];
  /** Scale factors [height, width]; the output is floor(input * scale) as ONNX defines. */
  scales?: readonly [number, number];
  mode?: ResizeMode;
  /** ONNX coordinate_transformation_mode (default half_pixel, the ONNX default). */
  coordinateMode?: CoordinateMode;
  /** ONNX nearest_mode (default round_prefer_floor). */
  nearestMode?: NearestMode;
}

const f = Math.fround;

/** Output coordinate -> input coordinate, in float32 like onnxruntime's GetOriginalCoordinate. */
function originalCoordinate(mode: CoordinateMode, x: number, scale: number, outLen: number, inLen: number): number {
  switch (mode) {
    case 'half_pixel':
      return f(f(f(x + 0.5) / scale) - 0.5);
    case 'pytorch_half_pixel':
      return outLen > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : f(f(x * (inLen - 1)) / (outLen - 1));
    case 'asymmetric':
      return f(x / scale);
  }
}

function nearestIndex(mode: NearestMode, v: number, len: number): number {
  let i: number;
  switch (mode) {
    case 'round_prefer_floor':
      i = v === Math.trunc(v) + 0.5 ? Math.floor(v) : roundHalfAway(v);
      break;
    case 'round_prefer_ceil':
      i = v === Math.trunc(v) + 0.5 ? Math.ceil(v) : roundHalfAway(v);
      break;
    case 'floor':
      i = Math.floor(v);
      break;
    case 'ceil':
      i = Math.ceil(v);
      break;
  }
  return i < 0 ? 0 : i >= len ? len - 1 : i;
}

function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** Output shape of resize for an input of shape [..., H, W]. */
export function resizeShape(shape: readonly number[], options: ResizeOptions): number[] {
  if (shape.length < 2) invalid('shape', `has rank ${shape.length}; expected at least 2 ([..., H, W])`);
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  let oh: number;
  let ow: number;
  if (options.size) {
    [oh, ow] = options.size;
  } else if (options.scales) {
    const [sh, sw] = options.scales;
    if (!(sh > 0 && sw > 0 && Number.isFinite(sh) && Number.isFinite(sw))) invalid('scales', `is [${sh}, ${sw}]; expected two finite positive numbers`);
    oh = Math.floor(f(f(sh) * h));
    ow = Math.floor(f(f(sw) * w));
  } else invalid('options', 'need size or scales');
  // onnxruntime rejects an output dim of 0 (its scale would be 0), so we do too.
  if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1 || oh > 1 << 16 || ow > 1 << 16) {
    invalid('size', `is [${oh}, ${ow}]; expected integers in [1, 65536]`);
  }
  return [...shape.slice(0, -2), oh, ow];
}

/**
 * ONNX Resize over the last two axes of x ([..., H, W], e.g. NCHW), nearest or (bi)linear, with onnxruntime's
 * float32 arithmetic for coordinates and weights. Scales are output / input in float32 when `size` is given.
 */
export function resize(x: Float32Array, shape: readonly number[], options: ResizeOptions, out?: Float32Array): Float32Array {
  if (!(x instanceof Float32Array)) invalid('x', 'must be a Float32Array');
  const outShape = resizeShape(shape, options);
  checkLength('x', x, checkShape('shape', shape));
  const count = checkShape('output shape', outShape);
  const dst = outputBuffer('out', out, Float32Array, count);
  const mode = options.mode ?? 'nearest';
  const coord = options.coordinateMode ?? 'half_pixel';
  if (!['half_pixel', 'align_corners', 'asymmetric', 'pytorch_half_pixel'].includes(coord)) invalid('coordinateMode', `is ${coord}`);
  if (mode !== 'nearest' && mode !== 'linear') invalid('mode', `is ${String(mode)}; expected nearest or linear`);
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const oh = outShape[outShape.length - 2]!;
  const ow = outShape[outShape.length - 1]!;
  if (count === 0) return dst;
  if (h === 0 || w === 0) invalid('shape', 'has an empty spatial axis; cannot resize it to a non-empty size');
  const sh = options.scales ? f(options.scales[0]) : f(oh / h);
  const sw = options.scales ? f(options.scales[1]) : f(ow / w);
  const planes = count / (oh * ow);
  if (mode === 'nearest') {
    const nm = options.nearestMode ?? 'round_prefer_floor';
    const ys = new Int32Array(oh);
    const xs = new Int32Array(ow);
    for (let y = 0; y < oh; y++) ys[y] = nearestIndex(nm, sh === 1 ? y : originalCoordinate(coord, y, sh, oh, h), h);
    for (let i = 0; i < ow; i++) xs[i] = nearestIndex(nm, sw === 1 ? i : originalCoordinate(coord, i, sw, ow, w), w);
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * h * w;
      for (let y = 0; y < oh; y++) {
        const row = base + ys[y]! * w;
        for (let i = 0; i < ow; i++) dst[o++] = x[row + xs[i]!]!;
      }
    }
    return dst;
  }
  const yAxis = linearAxis(coord, oh, h, sh);
  const xAxis = linearAxis(coord, ow, w, sw);
  if (count >= WASM_MIN && resizeLinearWasm(x, planes, h, w, yAxis, xAxis, dst)) return dst;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < oh; y++) {
      const r1 = base + yAxis.i1[y]! * w;
      const r2 = base + yAxis.i2[y]! * w;
      const dy1 = yAxis.d1[y]!;
      const dy2 = yAxis.d2[y]!;
      for (let i = 0; i < ow; i++) {
        const x1 = xAxis.i1[i]!;
        const x2 = xAxis.i2[i]!;
        const dx1 = xAxis.d1[i]!;
        const dx2 = xAxis.d2[i]!;
        // Same products and summation order as onnxruntime's UpsampleBilinear, each rounded to float32.
        const a = f(f(dx2 * dy2) * x[r1 + x1]!);
        const b = f(f(dx1 * dy2) * x[r1 + x2]!);
        const c = f(f(dx2 * dy1) * x[r2 + x1]!);
        const d = f(f(dx1 * dy1) * x[r2 + x2]!);
        dst[o++] = f(f(f(a + b) + c) + d);
      }
    }
  }
  return dst;
}

/** Output elements from which the WebAssembly loop beats the plain one (its copies and call cost less). */
const WASM_MIN = 24;

/** The last few axes computed (most recent first): repeated calls with the same shapes allocate nothing. */
const axisCache: { coord: CoordinateMode; outLen: number; inLen: number; scale: number; axis: LinearAxis }[] = [];
const AXIS_CACHE = 4;

/** Per output index: the two neighbours and their distances (float32), as onnxruntime precomputes them. */
function linearAxis(coord: CoordinateMode, outLen: number, inLen: number, scale: number): LinearAxis {
  for (let c = 0; c < axisCache.length; c++) {
    const e = axisCache[c]!;
    if (e.outLen === outLen && e.inLen === inLen && e.scale === scale && e.coord === coord) {
      if (c > 0) {
        axisCache.splice(c, 1);
        axisCache.unshift(e);
      }
      return e.axis;
    }
  }
  const i1 = new Int32Array(outLen);
  const i2 = new Int32Array(outLen);
  const d1 = new Float32Array(outLen);
  const d2 = new Float32Array(outLen);
  for (let k = 0; k < outLen; k++) {
    let v = scale === 1 ? k : originalCoordinate(coord, k, scale, outLen, inLen);
    v = Math.max(0, Math.min(v, inLen - 1));
    const a = Math.min(Math.trunc(v), inLen - 1);
    const b = Math.min(a + 1, inLen - 1);
    i1[k] = a;
    i2[k] = b;
    d1[k] = a === b ? 0.5 : Math.abs(v - a);
    d2[k] = a === b ? 0.5 : Math.abs(v - b);
  }
  const axis = { i1, i2, d1, d2 };
  axisCache.unshift({ coord, outLen, inLen, scale, axis });
  if (axisCache.length > AXIS_CACHE) axisCache.pop();
  return axis;
}
