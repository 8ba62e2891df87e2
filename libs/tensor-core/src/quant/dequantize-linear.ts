import { resolveQuantParams, type QuantParamsSpec } from './quantize-linear';
import { isPacked, quantStorageCtor, quantStorageLength, type QuantDType, type QuantStorage } from './quant-dtype';
import { checkLength, invalid, outputBuffer } from './validate';

/**
 * ONNX DequantizeLinear as onnxruntime 1.30 computes it: y = float32(q - zeroPoint) * scale, one float32
 * rounding (q - zp is an exact integer). Same per-tensor / per-axis / blocked layouts as quantizeLinear.
 */
export function dequantizeLinear<D extends QuantDType>(
  q: QuantStorage[D],
  shape: readonly number[],
  spec: QuantParamsSpec<D>,
  out?: Float32Array,
): Float32Array {
  const p = resolveQuantParams(shape, spec);
  const ctor = quantStorageCtor(spec.dtype);
  if (!(q instanceof ctor)) invalid('q', `must be a ${ctor.name} for ${spec.dtype}`);
  checkLength('q', q, quantStorageLength(spec.dtype, p.layout.count));
  const dst = outputBuffer('out', out, Float32Array, p.layout.count);
  const { kind, outer, dim, inner, blockSize, blocks } = p.layout;
  const { scale, zeroPoint } = p;
  const packed = isPacked(spec.dtype);
  const signed = spec.dtype === 'int4';
  if (kind === 'tensor') {
    if (packed) runPacked(q as Uint8Array, 0, p.layout.count, scale[0]!, zeroPoint[0]!, signed, dst);
    else runDense(q, 0, p.layout.count, scale[0]!, zeroPoint[0]!, dst);
    return dst;
  }
  for (let o = 0; o < outer; o++) {
    if (kind === 'block' && inner === 1) {
      // Blocks along the last (contiguous) axis: one run per block with its own scale.
      for (let b = 0; b < blocks; b++) {
        const d0 = b * blockSize;
        const n = Math.min(blockSize, dim - d0);
        const k = o * blocks + b;
        if (packed) runPacked(q as Uint8Array, o * dim + d0, n, scale[k]!, zeroPoint[k]!, signed, dst);
        else runDense(q, o * dim + d0, n, scale[k]!, zeroPoint[k]!, dst);
      }
      continue;
    }
    for (let d = 0; d < dim; d++) {
      const start = (o * dim + d) * inner;
      const k0 = kind === 'axis' ? d : (o * blocks + ((d / blockSize) | 0)) * inner;
      const step = kind === 'axis' ? 0 : 1;
      if (step === 0) {
        if (packed) runPacked(q as Uint8Array, start, inner, scale[k0]!, zeroPoint[k0]!, signed, dst);
        else runDense(q, start, inner, scale[k0]!, zeroPoint[k0]!, dst);
        continue;
      }
      for (let i = 0; i < inner; i++) {
        if (packed) runPacked(q as Uint8Array, start + i, 1, scale[k0 + i]!, zeroPoint[k0 + i]!, signed, dst);
        else runDense(q, start + i, 1, scale[k0 + i]!, zeroPoint[k0 + i]!, dst);
      }
    }
  }
  return dst;
}

function runDense(q: ArrayLike<number>, start: number, n: number, scale: number, zp: number, out: Float32Array): void {
  const end = start + n;
  for (let i = start; i < end; i++) out[i] = (q[i]! - zp) * scale;
}

function runPacked(q: Uint8Array, start: number, n: number, scale: number, zp: number, signed: boolean, out: Float32Array): void {
  const end = start + n;
  const shift = signed ? 28 : 0;
  for (let i = start; i < end; i++) {
    const b = q[i >> 1]!;
    const nib = i & 1 ? b >> 4 : b & 0x0f;
    const v = shift ? (nib << 28) >> 28 : nib;
    out[i] = (v - zp) * scale;
  }
}
