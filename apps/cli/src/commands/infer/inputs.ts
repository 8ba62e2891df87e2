import { readFileSync } from 'node:fs';
import { LeptonError } from '@lepton/tensor-core';
import { WireTensorSchema, decodeWireTensor, encodeWireTensor, type WireTensor } from '@lepton/contracts';

/**
 * `--input` specs of `lepton infer`:
 * - `@FILE.json`: every tensor in the file: an array of wire tensors `[{ name, dtype, shape, data }]`, or
 *   `{ "inputs": [...] }` (an infer request body);
 * - `NAME=@FILE.json`: one tensor: the file holds one wire tensor (its name may be left out), or a list from which
 *   the tensor called NAME is taken;
 * - `NAME=DTYPE:[D1,D2,...]:V1,V2,...`: inline, values in the readable array form (NaN, Infinity, -Infinity, -0;
 *   64-bit integers as decimals; true/false for bool). One value fills the whole shape (`state=float32:[2,1,128]:0`).
 * Every tensor is decoded here (typed errors name the tensor and index) and sent as base64, so each platform
 * receives the same bytes.
 */
export function parseInputSpecs(specs: readonly string[]): WireTensor[] {
  const out: WireTensor[] = [];
  for (const spec of specs) {
    for (const t of parseSpec(spec)) {
      if (out.some((o) => o.name === t.name)) throw new LeptonError('BAD_REQUEST', `input '${t.name}' is given twice (--input ${spec}); each input may appear once`);
      out.push(t);
    }
  }
  return out;
}

const INLINE = /^([a-z0-9]+):\[([^\]]*)\]:(.*)$/is;

function parseSpec(spec: string): WireTensor[] {
  if (spec.startsWith('@')) return readTensors(spec.slice(1)).map((t) => canonical(t, spec));
  const eq = spec.indexOf('=');
  if (eq < 1) throw badSpec(spec);
  const name = spec.slice(0, eq);
  const rest = spec.slice(eq + 1);
  if (rest.startsWith('@')) {
    const file = rest.slice(1);
    const list = readTensors(file, name);
    const found = list.length === 1 && list[0]!.name === undefined ? list[0] : list.find((t) => t.name === name);
    if (!found) throw new LeptonError('INPUT_UNKNOWN', `${file} holds no tensor named '${name}' (it holds ${list.map((t) => `'${t.name}'`).join(', ') || 'none'})`, { input: name, file });
    return [canonical({ ...found, name }, spec)];
  }
  const m = INLINE.exec(rest);
  if (!m) throw badSpec(spec);
  const shape = m[2]!.trim() === '' ? [] : m[2]!.split(',').map((d) => (d.trim() === '' ? NaN : Number(d)));
  let values: (string | boolean)[] = m[3]!.split(',').map((v) => v.trim());
  if (values.length === 1 && values[0] === '' ) values = [];
  if (m[1]!.toLowerCase() === 'bool') values = values.map((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v));
  const count = shape.reduce((a, b) => a * b, 1);
  if (values.length === 1 && Number.isSafeInteger(count) && count > 1 && count <= 1 << 24) values = new Array<string | boolean>(count).fill(values[0]!);
  return [canonical({ name, dtype: m[1]!.toLowerCase(), shape, data: values }, spec)];
}

function badSpec(spec: string): LeptonError {
  return new LeptonError(
    'BAD_REQUEST',
    `--input ${JSON.stringify(spec)} is not an input; expected @FILE.json, NAME=@FILE.json or NAME=DTYPE:[SHAPE]:V1,V2,... (e.g. sr=int64:[]:16000)`,
  );
}

type Loose = { name?: string; dtype: string; shape: number[]; data: unknown };

/** The tensors of a JSON file, checked against the wire tensor schema (name optional when one tensor is asked for). */
function readTensors(file: string, single?: string): Loose[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LeptonError('FILE_NOT_FOUND', `cannot read input file ${JSON.stringify(file)}: ${(err as Error).message}`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LeptonError('BAD_REQUEST', `input file ${file} is not JSON (${(err as Error).message}); expected wire tensors [{ name, dtype, shape, data }]`, { file });
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && 'inputs' in doc ? (doc as { inputs: unknown }).inputs : single ? [doc] : doc;
  const schema = (single ? WireTensorSchema.partial({ name: true }) : WireTensorSchema).array();
  const checked = schema.safeParse(list);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new LeptonError('VALIDATION_FAILED', `input file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; expected [{ name, dtype, shape, data }]`, { file });
  }
  return checked.data as Loose[];
}

/** Decode (all checks of the wire format, typed errors) and re-encode as base64. */
function canonical(t: Loose, spec: string): WireTensor {
  if (!t.name) throw new LeptonError('VALIDATION_FAILED', `--input ${spec}: a tensor has no name; expected { name, dtype, shape, data }`);
  return encodeWireTensor(t.name, decodeWireTensor({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.data as never }));
}
