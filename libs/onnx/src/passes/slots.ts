import { attrInt, type Use } from '../graph';

/**
 * What each op does with a constant input: which inputs are weights (worth quantizing even when small), which
 * axis holds the output channels of a weight (per-channel quantization), and which inputs must stay exact
 * float32 (scales, ranges, quantization parameters).
 */
export function channelAxis(use: Use, rank: number): number | undefined {
  const op = use.node.opType ?? '';
  const i = use.input;
  if ((use.node.domain ?? '') !== '') return undefined;
  if (op === 'Conv' && i === 1) return 0; // W [Cout, Cin/g, k...]
  if (op === 'ConvTranspose' && i === 1) return 1; // W [Cin, Cout/g, k...]
  if (op === 'Gemm' && i === 1) return attrInt(use.node, 'transB', 0) ? 0 : 1; // B [N, K] or [K, N]
  if (op === 'MatMul' && i === 1 && rank >= 2) return rank - 1; // B [..., K, N]
  if ((op === 'LSTM' || op === 'GRU' || op === 'RNN') && (i === 1 || i === 2)) return 1; // [dirs, gates*H, in]
  if (op === 'Gather' && i === 0 && rank === 2) return 0; // embedding rows
  return undefined;
}

/** Inputs that are weights of the op (quantized at any size above a handful of values). */
export function isWeightSlot(use: Use): boolean {
  const op = use.node.opType ?? '';
  const i = use.input;
  if ((use.node.domain ?? '') !== '') return false;
  if (op === 'Conv' || op === 'ConvTranspose' || op === 'Gemm' || op === 'MatMul') return i === 1;
  if (op === 'LSTM' || op === 'GRU' || op === 'RNN') return i === 1 || i === 2;
  return false;
}

/** Inputs whose float32 values are parameters read exactly (not data): never quantized, never converted to fp16. */
export function needsExactFloat32(use: Use): string | undefined {
  const op = use.node.opType ?? '';
  const i = use.input;
  if ((use.node.domain ?? '') !== '') return `input ${i} of ${op} (domain ${use.node.domain})`;
  if (op === 'Resize' && (i === 1 || i === 2)) return `Resize ${i === 1 ? 'roi' : 'scales'}`;
  if (op === 'Upsample' && i === 1) return 'Upsample scales';
  if (op === 'Range') return 'Range bounds';
  if (op === 'QuantizeLinear' || op === 'DequantizeLinear' || op === 'DynamicQuantizeLinear') return `${op} parameter`;
  if (op === 'ConstantOfShape' || op === 'Reshape' || op === 'Expand' || op === 'Tile' || op === 'Slice') {
    return i === 0 && op !== 'ConstantOfShape' ? undefined : `${op} shape input`;
  }
  if (op === 'Pad' && i === 1) return 'Pad pads';
  return undefined;
}
