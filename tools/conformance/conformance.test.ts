import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor } from '@lepton/contracts';
import { createPaths } from './create-paths';
import { runSuite, type SuiteRun } from './run-suite';
import { listTests, loadTest, TESTDATA_ROOT, type TestRef } from './suite';
import { mismatch } from './compare';

const HAVE_DATA = existsSync(TESTDATA_ROOT);

/** Tests that exercise the dtypes and shapes our layers could get wrong, always in the subset. */
const PINNED = [
  'node/test_constant', // no inputs at all
  'node/test_cast_FLOAT_to_FLOAT16', // float16 bits out
  'node/test_cast_FLOAT16_to_FLOAT', // float16 bits in
  'node/test_cast_STRING_to_FLOAT', // strings in
  'node/test_bitshift_left_uint64', // uint64
  'node/test_max_uint64',
  'node/test_and2d', // bool
  'node/test_argmax_default_axis_example', // int64 out
  'node/test_cast_BFLOAT16_to_FLOAT', // skipped everywhere: no bfloat16 in onnxruntime's JS API
  'node/test_adam', // training op: no kernel
  'node/test_identity_sequence', // sequence inputs: not tensors
  'pytorch-converted/test_AvgPool1d',
];

/** 60 tests: the pinned ones plus an even spread over all four suites (stable across runs). */
function subset(all: TestRef[]): TestRef[] {
  const pinned = all.filter((t) => PINNED.includes(`${t.suite}/${t.name}`));
  const rest = all.filter((t) => !pinned.includes(t));
  const step = rest.length / (60 - pinned.length);
  const spread = Array.from({ length: 60 - pinned.length }, (_, i) => rest[Math.floor(i * step)]!);
  return [...pinned, ...spread];
}

describe.skipIf(!HAVE_DATA || !existsSync('/usr/bin/chromium'))('ONNX backend conformance, fast subset (raw onnxruntime vs Lepton)', () => {
  let run: SuiteRun;
  const byName = (name: string) => run.results.find((r) => `${r.suite}/${r.name}` === name)!;

  beforeAll(async () => {
    const tests = subset(listTests());
    run = await runSuite(tests, await createPaths(['ort-node', 'ort-web', 'lepton-server', 'lepton-browser']));
  });

  it('runs 60 tests on the four paths', () => {
    expect(run.results).toHaveLength(60);
    expect(run.skippedPaths).toEqual([]);
    expect(Object.keys(run.summary.byPath)).toEqual(['ort-node', 'ort-web', 'lepton-server', 'lepton-browser']);
  });

  it('Lepton passes exactly the tests raw onnxruntime passes on the same runtime (none lost, none gained)', () => {
    expect(run.summary.lost).toEqual([
      { path: 'lepton-server', against: 'ort-node', tests: [] },
      { path: 'lepton-browser', against: 'ort-web', tests: [] },
    ]);
    expect(run.summary.gained.flatMap((g) => g.tests)).toEqual([]);
    expect(run.summary.byPath['lepton-server']!.pass).toBe(run.summary.byPath['ort-node']!.pass);
    expect(run.summary.byPath['lepton-browser']!.pass).toBe(run.summary.byPath['ort-web']!.pass);
    // Measured: most of the subset passes on every path; a collapse would mean a broken loader or comparator.
    expect(run.summary.byPath['ort-node']!.pass).toBeGreaterThanOrEqual(45);
  });

  it('carries float16, strings, uint64, bool, int64 and zero-input models through the wire and the server', () => {
    for (const name of PINNED.slice(0, 8)) {
      expect({ name, ...byName(name).paths['lepton-server'] }).toMatchObject({ name, outcome: 'pass' });
      expect({ name, ...byName(name).paths['lepton-browser'] }).toMatchObject({ name, outcome: 'pass' });
    }
  });

  it('names the reason of every test it cannot run or pass', () => {
    expect(byName('node/test_cast_BFLOAT16_to_FLOAT').paths['ort-node']).toMatchObject({ outcome: 'skip', category: 'unsupported-dtype' });
    expect(byName('node/test_cast_BFLOAT16_to_FLOAT').paths['lepton-server']).toMatchObject({ outcome: 'skip', category: 'unsupported-dtype' });
    expect(byName('node/test_adam').paths['ort-node']!.reason).toMatch(/Adam.* is not a registered function\/op/);
    expect(byName('node/test_identity_sequence').paths['lepton-server']).toMatchObject({ outcome: 'skip', category: 'non-tensor-io' });
    for (const r of run.results) {
      for (const p of Object.values(r.paths)) if (p.outcome !== 'pass') expect(p.reason, `${r.name}`).toBeTruthy();
    }
  });
});

describe.skipIf(!HAVE_DATA)('every tensor of the whole suite round-trips the JSON wire bit for bit', () => {
  it('base64 and array forms, every dtype the suite uses', () => {
    const dtypes = new Set<string>();
    let tensors = 0;
    for (const ref of listTests()) {
      const t = loadTest(ref);
      if (!t.ok) continue;
      for (const set of t.dataSets) {
        for (const { name, tensor } of [...set.inputs, ...set.outputs]) {
          dtypes.add(tensor.dtype);
          tensors++;
          const b64 = decodeWireTensor(JSON.parse(JSON.stringify(encodeWireTensor(name, tensor, 'base64'))));
          expect(bytesOf(b64), `${ref.name} ${name} base64`).toEqual(bytesOf(tensor));
          const arr = decodeWireTensor(JSON.parse(JSON.stringify(encodeWireTensor(name, tensor, 'array'))));
          // The array form keeps values, not NaN payloads: compare with NaN == NaN.
          expect(mismatch(arr, tensor, 0, 0), `${ref.name} ${name} array`).toBeUndefined();
        }
      }
    }
    expect(tensors).toBeGreaterThan(2000);
    expect([...dtypes].sort()).toEqual(
      expect.arrayContaining(['bool', 'float16', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'string', 'uint16', 'uint32', 'uint64', 'uint8']),
    );
  });
});

function bytesOf(t: Tensor): string {
  if (t.dtype === 'string') return JSON.stringify(t.data);
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
}
