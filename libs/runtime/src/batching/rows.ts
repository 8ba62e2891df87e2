import { LeptonError, allocate, type Tensor, type TensorData } from '@lepton/tensor-core';

type Dense = Exclude<TensorData, string[]>;

/** Elements in one row (the product of every dim after dim 0). */
function rowSize(t: Tensor): number {
  let n = 1;
  for (let i = 1; i < t.shape.length; i++) n *= t.shape[i]!;
  return n;
}

/**
 * Stack tensors that agree on dtype and on every dim after dim 0 into one tensor along dim 0. The caller has
 * checked they agree (batchKey); packed int4/uint4 never reach here because rows may split a byte.
 */
export function concatRows(parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  let rows = 0;
  for (const p of parts) rows += p.shape[0]!;
  const shape = [rows, ...first.shape.slice(1)];
  const per = rowSize(first);
  if (first.dtype === 'string') {
    const out: string[] = [];
    for (const p of parts) for (const s of p.data as string[]) out.push(s);
    return { dtype: first.dtype, shape, data: out };
  }
  const out = allocate(first.dtype, rows * per) as Dense;
  let o = 0;
  for (const p of parts) {
    (out as Float32Array).set(p.data as Float32Array, o);
    o += (p.data as Dense).length;
  }
  return { dtype: first.dtype, shape, data: out } as Tensor;
}

/**
 * Split a batched output back into per-request tensors of `counts[i]` rows each. Each part gets its own copy, so
 * one caller keeping its result does not pin the whole batch's buffer. INFERENCE_FAILED if dim 0 is not the
 * total (the model did not keep rows independent, so the batch cannot be split).
 */
export function splitRows(name: string, t: Tensor, counts: readonly number[]): Tensor[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (t.shape.length === 0 || t.shape[0] !== total) {
    throw new LeptonError('INFERENCE_FAILED', `batched output '${name}' has shape [${t.shape.join(', ')}]; expected ${total} rows in dim 0`, {
      output: name,
    });
  }
  const per = rowSize(t);
  const out: Tensor[] = [];
  let row = 0;
  for (const n of counts) {
    const shape = [n, ...t.shape.slice(1)];
    const start = row * per;
    const end = (row + n) * per;
    const data = t.dtype === 'string' ? (t.data as string[]).slice(start, end) : (t.data as Dense).slice(start, end);
    out.push({ dtype: t.dtype, shape, data } as Tensor);
    row += n;
  }
  return out;
}
