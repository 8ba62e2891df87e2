import { LeptonError, allocate, storageLength, type Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, type ModelManifest, type TensorSpec } from '@lepton/contracts';

export type Feeds = Record<string, Tensor>;

/** Values bound to symbolic dims ("batch", "time") by the feeds of one call. */
export type DimBindings = Map<string, number>;

const shapeText = (shape: readonly (number | string)[]): string => `[${shape.join(', ')}]`;

/**
 * Check a call's feeds against the manifest before anything reaches onnxruntime, so every platform rejects the
 * same feeds with the same error. `carried` inputs (stream state) must not be fed; constants may be omitted.
 */
export function validateFeeds(manifest: ModelManifest, feeds: Feeds, carried: ReadonlySet<string> = new Set()): DimBindings {
  const model = `${manifest.id}@${manifest.version}`;
  const specs = new Map(manifest.inputs.map((s) => [s.name, s]));
  const constants = new Set(manifest.constants.map((c) => c.input));
  const expected = manifest.inputs.filter((s) => !carried.has(s.name) && !constants.has(s.name)).map((s) => s.name);

  for (const name of Object.keys(feeds)) {
    if (!specs.has(name)) {
      throw new LeptonError('INPUT_UNKNOWN', `'${name}' is not an input of model ${model}; expected ${list(expected)}`, {
        input: name,
        expected,
      });
    }
    if (carried.has(name)) {
      throw new LeptonError('INPUT_UNKNOWN', `input '${name}' of model ${model} is stream state, carried between steps; do not feed it`, {
        input: name,
      });
    }
  }
  for (const name of expected) {
    if (!(name in feeds)) {
      throw new LeptonError('INPUT_MISSING', `model ${model} needs input '${name}'; got ${list(Object.keys(feeds))}`, {
        input: name,
      });
    }
  }
  const bindings: DimBindings = new Map();
  for (const [name, t] of Object.entries(feeds)) checkTensor(specs.get(name)!, t, bindings);
  for (const c of manifest.constants) if (c.input in feeds) checkConstant(model, c, feeds[c.input]!);
  return bindings;
}

/**
 * A constant may be fed, but only with its own value: the model was exported for that value (Silero's sr other
 * than 16000 fails deep inside onnxruntime, which would read as a server fault).
 */
function checkConstant(model: string, c: ModelManifest['constants'][number], t: Tensor): void {
  const want = decodeWireTensor({ name: c.input, dtype: c.dtype, shape: c.shape, data: c.value }).data;
  const got = t.data;
  const text = (d: ArrayLike<unknown>): string => {
    const shown = Array.from({ length: Math.min(d.length, 8) }, (_, i) => String(d[i]));
    return `[${shown.join(', ')}${d.length > 8 ? ', ...' : ''}]`;
  };
  for (let i = 0; i < want.length; i++) {
    if (String(want[i]) !== String(got[i])) {
      throw new LeptonError(
        'VALIDATION_FAILED',
        `input '${c.input}' of model ${model} is a constant ${text(want)}; got ${text(got)} (leave it out, or send the constant)`,
        { input: c.input, expected: c.value, index: i },
      );
    }
  }
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', ');
}

/**
 * Feeds whose data is a plain JS array (a caller without types, or a literal in a script) read exactly as the wire's
 * array form reads them: numbers, decimal strings and bigints for int64/uint64, "NaN"/"Infinity"/"-0" strings for
 * floats. onnxruntime-common would otherwise turn [9007199254740993] into 9007199254740992 without a word; here it
 * is TENSOR_ENCODING_INVALID naming the element. Typed arrays and string tensors are returned as they are.
 */
export function exactFeeds(feeds: Feeds): Feeds {
  let out: Feeds | undefined;
  for (const [name, t] of Object.entries(feeds)) {
    if (t === null || typeof t !== 'object' || !Array.isArray(t.data) || t.dtype === 'string' || !Array.isArray(t.shape)) continue;
    out ??= { ...feeds };
    out[name] = decodeWireTensor({ name, dtype: t.dtype, shape: [...t.shape], data: t.data as never });
  }
  return out ?? feeds;
}

/** The storage class of each dtype (what allocate makes); uint8 also takes canvas pixels (Uint8ClampedArray). */
function storageMatches(t: Tensor): boolean {
  if (t.dtype === 'string') return Array.isArray(t.data);
  const want = (allocate(t.dtype, 0) as object).constructor as new () => object;
  return t.data instanceof want || (t.dtype === 'uint8' && t.data instanceof Uint8ClampedArray);
}

/** dtype, rank, fixed dims, symbolic dims within maxShape and consistent across inputs, storage class and length. */
export function checkTensor(spec: TensorSpec, t: Tensor, bindings: DimBindings): void {
  const name = spec.name;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || t.data === undefined) {
    throw new LeptonError('VALIDATION_FAILED', `input '${name}' is not a tensor ({ dtype, shape, data })`, { input: name });
  }
  if (t.dtype !== spec.dtype) {
    throw new LeptonError('TENSOR_DTYPE_MISMATCH', `input '${name}' has dtype ${t.dtype}; expected ${spec.dtype}`, {
      input: name,
      expected: spec.dtype,
      received: t.dtype,
    });
  }
  const mismatch = (why: string) =>
    new LeptonError(
      'TENSOR_SHAPE_MISMATCH',
      `input '${name}' has shape ${shapeText(t.shape)}; expected ${shapeText(spec.shape)}${why}`,
      { input: name, expected: spec.shape, received: [...t.shape] },
    );
  if (t.shape.length !== spec.shape.length) throw mismatch(` (rank ${spec.shape.length}, got ${t.shape.length})`);
  for (let i = 0; i < spec.shape.length; i++) {
    const want = spec.shape[i]!;
    const got = t.shape[i]!;
    if (!Number.isSafeInteger(got) || got < 0) throw mismatch(` (dim ${i} is not a non-negative integer)`);
    if (typeof want === 'number') {
      if (got !== want) throw mismatch(` (dim ${i} must be ${want})`);
      continue;
    }
    const max = spec.maxShape?.[i];
    if (max !== undefined && got > max) {
      throw new LeptonError(
        'TENSOR_TOO_LARGE',
        `input '${name}' dim ${i} ('${want}') is ${got}; the limit is ${max} (maxShape ${shapeText(spec.maxShape!)})`,
        { input: name, dim: i, limit: max, received: got },
      );
    }
    const bound = bindings.get(want);
    if (bound !== undefined && bound !== got) throw mismatch(` (dim '${want}' is ${bound} in another input)`);
    bindings.set(want, got);
  }
  if (!storageMatches(t)) {
    const an = (what: string) => `${/^[AEIOU]/.test(what) ? 'an' : 'a'} ${what}`;
    const want = t.dtype === 'string' ? 'an array of strings' : an((allocate(t.dtype, 0) as object).constructor.name);
    const got = Array.isArray(t.data) ? 'a plain Array' : an((t.data as object)?.constructor?.name ?? typeof t.data);
    throw new LeptonError('TENSOR_ENCODING_INVALID', `input '${name}' (${t.dtype}) holds ${got}; expected ${want}`, {
      input: name,
      dtype: t.dtype,
    });
  }
  const count = t.shape.reduce((a, b) => a * b, 1);
  const need = storageLength(t.dtype, count);
  if (t.data.length !== need) {
    throw new LeptonError(
      'TENSOR_SIZE_MISMATCH',
      `input '${name}' of shape ${shapeText(t.shape)} needs ${need} ${t.dtype} storage elements, got ${t.data.length}`,
      { input: name, expected: need, received: t.data.length },
    );
  }
}

/** A concrete shape for a spec, resolving symbolic dims from this call's bindings (MANIFEST_INVALID if unbound). */
export function resolveShape(spec: TensorSpec, bindings: DimBindings, model: string): number[] {
  return spec.shape.map((d, i) => {
    if (typeof d === 'number') return d;
    const v = bindings.get(d);
    if (v === undefined) {
      throw new LeptonError(
        'MANIFEST_INVALID',
        `model ${model}: state input '${spec.name}' dim ${i} ('${d}') is not fixed and no fed input binds it`,
      );
    }
    return v;
  });
}
