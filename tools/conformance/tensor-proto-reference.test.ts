import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@lepton/tensor-core';
import { decodeTensorProto, tensorFromProto } from '@lepton/onnx';
import { listTests, loadTest } from './suite';

// Every path of the conformance run (raw onnxruntime included) starts from Lepton's tensorFromProto, and so do
// the reference outputs: a decoding bug there would move inputs and references together and go unseen. This
// checks our decoding of every .pb of every runnable test against the onnx Python package (Debian python3-onnx
// 1.12, onnx.numpy_helper.to_array), byte for byte.

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./tensor-proto-digests.py', import.meta.url));
const tests = listTests();
const HAVE_PY_ONNX = existsSync(PYTHON) && tests.length > 0 && pythonHasOnnx();

function pythonHasOnnx(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import onnx, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function leptonBytes(t: Tensor): Uint8Array {
  if (t.dtype === 'string') return Buffer.from(t.data.join('\0'), 'utf8');
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

interface PyDigest {
  path: string;
  dtype?: string;
  shape?: number[];
  sha256?: string;
  error?: string;
}

describe.skipIf(!HAVE_PY_ONNX)('TensorProto decoding agrees with the onnx Python package on the whole suite', () => {
  it('same dtype, shape and element bytes for every input and output of every runnable test', () => {
    const files: string[] = [];
    for (const ref of tests) {
      if (!loadTest(ref).ok) continue; // sequence/optional protos: not tensors, skipped by every path alike
      for (const set of readdirSync(ref.dir).filter((d) => d.startsWith('test_data_set_'))) {
        for (const f of readdirSync(join(ref.dir, set)).filter((x) => x.endsWith('.pb'))) files.push(join(ref.dir, set, f));
      }
    }
    const out = execFileSync(PYTHON, [SCRIPT], { input: files.join('\n'), maxBuffer: 1 << 28 }).toString();
    const py = out.trim().split('\n').map((l) => JSON.parse(l) as PyDigest);
    expect(py).toHaveLength(files.length);
    const dtypes = new Map<string, number>();
    const problems: string[] = [];
    for (const ref of py) {
      if (ref.error) {
        problems.push(`${ref.path}: python: ${ref.error}`);
        continue;
      }
      const t = tensorFromProto(decodeTensorProto(new Uint8Array(readFileSync(ref.path))));
      const ours = { dtype: t.dtype, shape: [...t.shape], sha256: createHash('sha256').update(leptonBytes(t)).digest('hex') };
      const theirs = { dtype: ref.dtype, shape: ref.shape, sha256: ref.sha256 };
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) problems.push(`${ref.path}: lepton ${JSON.stringify(ours)} vs onnx ${JSON.stringify(theirs)}`);
      dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    // Measured on libonnx-testdata 1.12: ~3100 tensor files, 13 dtypes.
    expect(files.length).toBeGreaterThan(3000);
    expect([...dtypes.keys()].sort()).toEqual(
      expect.arrayContaining(['bool', 'float16', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'string', 'uint16', 'uint32', 'uint64', 'uint8']),
    );
  });
});
