import { bfloat16BitsToFloat32, float16BitsToFloat32, type Tensor } from '@lepton/tensor-core';

/** ONNX backend-test tolerance (onnx/backend/test/runner: rtol 1e-3, atol 1e-7), applied to every float dtype. */
export const RTOL = 1e-3;
export const ATOL = 1e-7;

/** Why an output does not match its reference, or undefined when it does. */
export function mismatch(actual: Tensor, expected: Tensor, rtol = RTOL, atol = ATOL): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return `shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  const a = values(actual);
  const e = values(expected);
  if (a.length !== e.length) return `${a.length} values, expected ${e.length}`;
  const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(actual.dtype);
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = e[i];
    let ok: boolean;
    if (isFloat) {
      const xf = x as number;
      const yf = y as number;
      if (Number.isNaN(xf) || Number.isNaN(yf)) ok = Number.isNaN(xf) && Number.isNaN(yf);
      else if (!Number.isFinite(xf) || !Number.isFinite(yf)) ok = xf === yf;
      else {
        const d = Math.abs(xf - yf);
        ok = d <= atol + rtol * Math.abs(yf);
        if (!ok) worst = Math.max(worst, d);
      }
    } else {
      // Integers, bool and strings compare exactly (no tolerance can excuse an off-by-one class index).
      ok = x === y;
    }
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return undefined;
  const at = `first at [${first}]: ${String(a[first])} vs expected ${String(e[first])}`;
  return isFloat
    ? `${bad}/${a.length} values outside rtol ${rtol} / atol ${atol} (max abs diff ${worst.toPrecision(3)}; ${at})`
    : `${bad}/${a.length} values differ (${at})`;
}

/** Element values as numbers (floats decoded from float16/bfloat16 bits), bigints or strings. */
function values(t: Tensor): ArrayLike<number | bigint | string> {
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, float16BitsToFloat32);
  if (t.dtype === 'bfloat16') return Array.from(t.data as Uint16Array, bfloat16BitsToFloat32);
  return t.data as ArrayLike<number | bigint | string>;
}

/** Why an output is not the reference bit for bit (element bytes, NaN payloads and -0 included), or undefined. */
export function bitMismatch(actual: Tensor, expected: Tensor): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  const a = elements(actual);
  const e = elements(expected);
  if (a.length !== e.length) return `${a.length} elements, expected ${e.length}`;
  const bad = a.findIndex((x, i) => x !== e[i]);
  return bad < 0 ? undefined : `element [${bad}] is ${a[bad]}, expected ${e[bad]} (bit for bit)`;
}

/** Each element as text: strings JSON-quoted, numbers as their little-endian bytes in hex. */
function elements(t: Tensor): string[] {
  if (t.dtype === 'string') return (t.data as string[]).map((s) => JSON.stringify(s));
  const d = t.data as Exclude<Tensor['data'], string[]>;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const width = d.BYTES_PER_ELEMENT;
  return Array.from({ length: d.length }, (_, i) => `0x${Array.from(bytes.subarray(i * width, (i + 1) * width), (b) => b.toString(16).padStart(2, '0')).join('')}`);
}
