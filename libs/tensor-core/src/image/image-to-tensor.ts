import { checkFloat32, checkInteger, invalid, outputBuffer } from '../quant/validate';

/** Interleaved 8-bit pixel formats (canvas ImageData is rgba). */
export type PixelFormat = 'rgba' | 'bgra' | 'rgb' | 'bgr' | 'gray';

export interface ImageToTensorOptions {
  width: number;
  height: number;
  format: PixelFormat;
  /** Output channel order: 'rgb' (default for colour input), 'bgr', or 'gray' (default for gray input). */
  channels?: 'rgb' | 'bgr' | 'gray';
  /** 'nchw' (planar, default) or 'nhwc' (interleaved). The batch dim is 1. */
  layout?: 'nchw' | 'nhwc';
  /** Pixel values are divided by this first (default 255, giving [0, 1]; use 1 to keep [0, 255]). */
  divisor?: number;
  /** Per output channel (or one for all), subtracted after dividing. Default 0. */
  mean?: number | readonly number[];
  /** Per output channel (or one for all), divided by last. Default 1. */
  std?: number | readonly number[];
}

// Byte offsets of R, G, B inside one pixel, and bytes per pixel.
const LAYOUTS: Record<PixelFormat, readonly [number, number, number, number]> = {
  rgba: [0, 1, 2, 4],
  bgra: [2, 1, 0, 4],
  rgb: [0, 1, 2, 3],
  bgr: [2, 1, 0, 3],
  gray: [0, 0, 0, 1],
};

/** Shape of imageToTensor's output. */
export function imageTensorShape(options: ImageToTensorOptions): number[] {
  const c = outputChannels(options);
  return options.layout === 'nhwc' ? [1, options.height, options.width, c] : [1, c, options.height, options.width];
}

function outputChannels(o: ImageToTensorOptions): number {
  return (o.channels ?? (o.format === 'gray' ? 'gray' : 'rgb')) === 'gray' ? 1 : 3;
}

function perChannel(arg: string, v: number | readonly number[] | undefined, fallback: number, channels: number, positive: boolean): number[] {
  const list = v === undefined ? [fallback] : typeof v === 'number' ? [v] : [...v];
  if (list.length !== 1 && list.length !== channels) invalid(arg, `has ${list.length} values; expected 1 or ${channels}`);
  list.forEach((x, i) => checkFloat32(`${arg}[${i}]`, x, positive));
  return Array.from({ length: channels }, (_, i) => list[list.length === 1 ? 0 : i]!);
}

// The last tables built: a pipeline normalises every frame with the same parameters, so rebuilding 768
// entries per call would cost more than converting a small image.
let cachedKey = '';
let cachedLut = new Float32Array(0);

/** Per channel, the float32 value of every byte: ((v / divisor) - mean) / std, each step rounded to float32. */
function channelTables(divisor: number, mean: number[], std: number[]): Float32Array {
  const key = `${divisor}|${mean.join(',')}|${std.join(',')}`;
  if (key === cachedKey) return cachedLut;
  const f = Math.fround;
  const fd = f(divisor);
  const lut = new Float32Array(256 * mean.length);
  for (let c = 0; c < mean.length; c++) {
    const m = f(mean[c]!);
    const s = f(std[c]!);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / fd) - m) / s);
  }
  cachedKey = key;
  cachedLut = lut;
  return lut;
}

/**
 * Interleaved uint8 pixels -> float32 tensor: value = (pixel / divisor - mean[c]) / std[c], each step rounded
 * to float32 (so the result is bit-identical on every engine), alpha dropped. A pixel byte has only 256 values,
 * so each channel's mapping is tabulated once and the loop is a table lookup.
 */
export function imageToTensor(pixels: Uint8Array | Uint8ClampedArray, options: ImageToTensorOptions, out?: Float32Array): Float32Array {
  if (!(pixels instanceof Uint8Array || pixels instanceof Uint8ClampedArray)) invalid('pixels', 'must be a Uint8Array or Uint8ClampedArray');
  const width = checkInteger('width', options.width, 0, 1 << 16);
  const height = checkInteger('height', options.height, 0, 1 << 16);
  const layoutSpec = LAYOUTS[options.format];
  if (!layoutSpec) invalid('format', `is ${String(options.format)}; expected one of ${Object.keys(LAYOUTS).join(', ')}`);
  const channelOrder = options.channels ?? (options.format === 'gray' ? 'gray' : 'rgb');
  if (!['rgb', 'bgr', 'gray'].includes(channelOrder)) invalid('channels', `is ${String(channelOrder)}; expected rgb, bgr or gray`);
  if (channelOrder === 'gray' && options.format !== 'gray') invalid('channels', `is gray but format is ${options.format}; convert colour to gray before`);
  const [ro, go, bo, stride] = layoutSpec;
  const pixelsN = width * height;
  if (pixels.length !== pixelsN * stride) {
    invalid('pixels', `has ${pixels.length} bytes; ${options.format} ${width}x${height} needs ${pixelsN * stride}`);
  }
  const channels = outputChannels(options);
  const divisor = checkFloat32('divisor', options.divisor ?? 255, true);
  const mean = perChannel('mean', options.mean, 0, channels, false);
  const std = perChannel('std', options.std, 1, channels, true);
  const dst = outputBuffer('out', out, Float32Array, pixelsN * channels);
  const lut = channelTables(divisor, mean, std);
  const offsets = channels === 1 ? [0] : channelOrder === 'bgr' ? [bo, go, ro] : [ro, go, bo];
  if (options.layout === 'nhwc') {
    for (let c = 0; c < channels; c++) {
      const off = offsets[c]!;
      const base = c * 256;
      for (let p = 0, o = c; p < pixelsN; p++, o += channels) dst[o] = lut[base + pixels[p * stride + off]!]!;
    }
    return dst;
  }
  for (let c = 0; c < channels; c++) {
    const off = offsets[c]!;
    const base = c * 256;
    const plane = c * pixelsN;
    for (let p = 0, k = off; p < pixelsN; p++, k += stride) dst[plane + p] = lut[base + pixels[k]!]!;
  }
  return dst;
}
