import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * Write a file through a temp file and a rename, so a failed write (disk full, killed process) never leaves a
 * truncated model where the previous one was. Errors name the path: BAD_REQUEST, since the user chose it.
 */
function writeFileAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder itself is unusable (ENOTDIR): no temp file was made.
    }
    throw new LeptonError('BAD_REQUEST', `cannot write ${JSON.stringify(path)}: ${(err as Error).message}; expected a writable file path`, { path });
  }
}

/** Write a model; with `external`, tensors of 1 KiB or more go to `<name>.data` beside it. Returns bytes written. */
export function saveModel(path: string, proto: ModelProto, external = false): number {
  if (path.trim() === '') throw new LeptonError('BAD_REQUEST', `output path is ${JSON.stringify(path)}; expected a file path for the model (-o OUT.onnx)`, { path });
  let isDirectory = false;
  try {
    isDirectory = statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    // ENOTDIR and the like: the write below reports the path.
  }
  if (isDirectory) {
    throw new LeptonError('BAD_REQUEST', `output ${JSON.stringify(path)} is a directory; expected a file path for the model (for example ${join(path, 'model.onnx')})`, { path });
  }
  const base = path.split(/[\\/]/).pop()!;
  const written = writeModel(proto, external ? { externalData: { location: `${base}.data` } } : {});
  // External data first: the model file that refers to it appears only once its data is in place.
  let total = written.model.length;
  for (const [location, data] of Object.entries(written.files)) {
    writeFileAtomic(join(dirname(path), location), data);
    total += data.length;
  }
  writeFileAtomic(path, written.model);
  return total;
}

/** Comma-separated list option. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
