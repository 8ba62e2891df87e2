import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';
import { checkExternalLocation, readModel, writeModel, type ModelProto } from '@lepton/onnx';

/** Print to stdout; commands take it so tests can capture output. */
export type Out = (text: string) => void;
export const stdout: Out = (text) => process.stdout.write(`${text}\n`);

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new LeptonError('FILE_NOT_FOUND', `cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}

/**
 * Read a model file and its external data. Locations are checked by @lepton/onnx (relative, inside the folder);
 * joining them here and checking the result again keeps a symlink-free escape out too.
 */
export async function loadModel(path: string): Promise<{ bytes: Uint8Array; proto: ModelProto; size: number }> {
  const bytes = readFile(path);
  const folder = resolve(dirname(path));
  let size = bytes.length;
  const proto = await readModel(bytes, {
    resolveExternal: (location) => {
      const full = resolve(folder, checkExternalLocation(location));
      if (!full.startsWith(folder + sep)) throw new LeptonError('VALIDATION_FAILED', `external data location ${JSON.stringify(location)} leaves the model folder`);
      const data = readFile(full);
      size += data.length;
      return data;
    },
  });
  return { bytes, proto, size };
}

/** Write a model; with `external`, tensors of 1 KiB or more go to `<name>.data` beside it. Returns bytes written. */
export function saveModel(path: string, proto: ModelProto, external = false): number {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const base = path.split(/[\\/]/).pop()!;
  const written = writeModel(proto, external ? { externalData: { location: `${base}.data` } } : {});
  writeFileSync(path, written.model);
  let total = written.model.length;
  for (const [location, data] of Object.entries(written.files)) {
    writeFileSync(join(dirname(path), location), data);
    total += data.length;
  }
  return total;
}

/** Comma-separated list option. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
