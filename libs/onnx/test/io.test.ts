import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExternalLocation, decodeModel, decodeTensorProto, encodeModel, quantizeWeightsInt8, readModel, tensorDims, writeModel, type TensorProto } from '../src';
import { f32, graph, model, node, bytes, randomFloats } from './support/build';
import { ort, run, tensor } from './support/ort';

const SUITE = '/usr/share/libonnx-testdata/data/node';
const hasSuite = existsSync(SUITE);
const MODELS = [
  'test_conv_with_strides_padding', 'test_gemm_all_attributes', 'test_lstm_with_initial_bias', 'test_if', 'test_loop11',
  'test_scan9_sum', 'test_matmul_2d', 'test_resize_upsample_scales_linear', 'test_constant', 'test_batchnorm_epsilon',
  'test_range_float_type_positive_delta_expanded', 'test_convtranspose', 'test_gru_defaults', 'test_cast_FLOAT_to_FLOAT16',
  'test_layer_normalization_2d_axis0', 'test_where_example',
];

const ORT_TYPES: Record<number, [ort.Tensor.Type, (raw: Uint8Array, t: TensorProto) => ort.Tensor['data']]> = {
  1: ['float32', (r, t) => (r.length ? new Float32Array(copy(r)) : Float32Array.from(t.floatData))],
  6: ['int32', (r, t) => (r.length ? new Int32Array(copy(r)) : Int32Array.from(t.int32Data))],
  7: ['int64', (r, t) => (r.length ? new BigInt64Array(copy(r)) : BigInt64Array.from(t.int64Data.map((v) => BigInt(String(v)))))],
  9: ['bool', (r, t) => (r.length ? Uint8Array.from(r) : Uint8Array.from(t.int32Data))],
};

const copy = (r: Uint8Array): ArrayBuffer => Uint8Array.prototype.slice.call(r).buffer as ArrayBuffer;

function toOrt(t: TensorProto): ort.Tensor {
  const [type, read] = ORT_TYPES[t.dataType!]!;
  return new ort.Tensor(type, read(t.rawData ?? new Uint8Array(0), t) as never, tensorDims(t));
}

describe.skipIf(!hasSuite)('round trip on the ONNX backend conformance models (Debian libonnx-testdata)', () => {
  for (const name of MODELS) {
    it(`${name}: decode + encode changes no output bit`, async () => {
      const dir = join(SUITE, name);
      const original = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
      const again = encodeModel(decodeModel(original));
      const m = decodeModel(original);
      const inits = new Set(m.graph!.initializer.map((t) => t.name));
      const inputs = m.graph!.input.filter((v) => !inits.has(v.name));
      const feeds: Record<string, ort.Tensor> = {};
      inputs.forEach((v, i) => {
        feeds[v.name!] = toOrt(decodeTensorProto(new Uint8Array(readFileSync(join(dir, 'test_data_set_0', `input_${i}.pb`)))));
      });
      const a = await (await ort.InferenceSession.create(original)).run(feeds);
      const b = await (await ort.InferenceSession.create(again)).run(feeds);
      for (const k of Object.keys(a)) {
        const x = a[k]!.data as ArrayLike<unknown>;
        const y = b[k]!.data as ArrayLike<unknown>;
        expect(b[k]!.dims).toEqual(a[k]!.dims);
        // Bytes, not values: NaN payloads and -0 count too.
        const bx = new Uint8Array((x as Float32Array).buffer, (x as Float32Array).byteOffset, (x as Float32Array).byteLength);
        const by = new Uint8Array((y as Float32Array).buffer, (y as Float32Array).byteOffset, (y as Float32Array).byteLength);
        expect(Buffer.compare(bx, by), `${name} output ${k}`).toBe(0);
      }
      // Re-encoding the re-encoded model is stable.
      expect(Buffer.compare(encodeModel(decodeModel(again)), again)).toBe(0);
    });
  }
});

describe.skipIf(!hasSuite)('byte-identical round trip', () => {
  it('decode + encode reproduces every model of the backend suite byte for byte', () => {
    const root = join(SUITE, '..');
    const differ: string[] = [];
    let count = 0;
    for (const kind of readdirSync(root)) {
      for (const t of readdirSync(join(root, kind))) {
        const path = join(root, kind, t, 'model.onnx');
        if (!existsSync(path)) continue;
        const b = new Uint8Array(readFileSync(path));
        if (Buffer.compare(encodeModel(decodeModel(b)), b) !== 0) differ.push(`${kind}/${t}`);
        count++;
      }
    }
    expect(count).toBeGreaterThan(1000);
    expect(differ).toEqual([]);
  });
});

describe('preserving what a pass does not change', () => {
  it('keeps doc strings, metadata, value_info, producer and other opsets through int8-weight', () => {
    const g = graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [1, 32]]], [['Y', 1, [1, 8]]], [f32('W', [32, 8], randomFloats(256, 1))]);
    g.node[0]!.docString = 'the layer';
    g.docString = 'graph doc';
    g.valueInfo.push({ name: 'Y', type: { tensorType: { elemType: 1 } }, metadataProps: [] });
    const m = model(g);
    m.docString = 'model doc';
    m.metadataProps.push({ key: 'author', value: 'lepton' });
    m.opsetImport.push({ domain: 'com.microsoft', version: 1 });
    const out = decodeModel(quantizeWeightsInt8(bytes(m)).model);
    expect(out.docString).toBe('model doc');
    expect(out.producerName).toBe('lepton-test');
    expect(out.graph!.docString).toBe('graph doc');
    expect(out.graph!.node.find((n) => n.opType === 'MatMul')!.docString).toBe('the layer');
    expect(out.metadataProps.find((p) => p.key === 'author')!.value).toBe('lepton');
    expect(JSON.parse(out.metadataProps.find((p) => p.key === 'lepton.passes')!.value!)[0].pass).toBe('int8-weight');
    expect(out.opsetImport.map((o) => o.domain)).toEqual(['', 'com.microsoft']);
    expect(out.graph!.valueInfo.map((v) => v.name)).toEqual(['Y']);
  });

  it('rejects bytes that are not a model, naming the size', () => {
    expect(() => decodeModel(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(/3 bytes/);
  });
});

describe('external data (compression case external-data)', () => {
  const w = randomFloats(64 * 32, 9);
  const m = model(graph([node('MatMul', ['X', 'W'], ['Y'])], [['X', 1, [1, 64]]], [['Y', 1, [1, 32]]], [f32('W', [64, 32], w)]));

  it('writes big tensors to a side file, reads them back through the resolver, and runs identically', async () => {
    const written = writeModel(m, { externalData: { location: 'weights/model.data' } });
    expect(Object.keys(written.files)).toEqual(['weights/model.data']);
    expect(written.model.length).toBeLessThan(1024);
    const asked: string[] = [];
    const back = await readModel(written.model, {
      resolveExternal: (location) => {
        asked.push(location);
        return written.files[location]!;
      },
    });
    expect(asked).toEqual(['weights/model.data']);
    // Rewritten through a pass and written back with its data.
    const q = quantizeWeightsInt8(back);
    const again = writeModel(q.proto, { externalData: { location: 'model.data', threshold: 256 } });
    const reread = await readModel(again.model, { resolveExternal: (l) => again.files[l]! });
    const x = { X: tensor(randomFloats(64, 3), [1, 64]) };
    const [a, b, c] = [await run(bytes(m), x), await run(encodeModel(back), x), await run(encodeModel(reread), x)];
    expect(Array.from(b.Y!)).toEqual(Array.from(a.Y!));
    expect(Array.from(c.Y!)).toEqual(Array.from((await run(q.model, x)).Y!));
  });

  it('odd but inside locations (spaces, unicode, ./, doubled slashes, backslashes) are normalized once and read', async () => {
    const cases: [string, string][] = [
      ['weights dir/model data.bin', 'weights dir/model data.bin'],
      ['poids/modèle 🙂.bin', 'poids/modèle 🙂.bin'],
      ['./w.bin', 'w.bin'],
      ['a//b/./c.bin', 'a/b/c.bin'],
      ['sub\\w.bin', 'sub/w.bin'],
      ['...', '...'],
      ['~/.cache/w', '~/.cache/w'],
    ];
    for (const [location, normalized] of cases) {
      expect(checkExternalLocation(location), location).toBe(normalized);
      const written = writeModel(m, { externalData: { location } });
      const asked: string[] = [];
      const back = await readModel(written.model, { resolveExternal: (l) => (asked.push(l), written.files[normalized]!) });
      expect(asked).toEqual([normalized]);
      expect(Array.from(new Float32Array(back.graph!.initializer[0]!.rawData!.slice().buffer))).toEqual(Array.from(w));
    }
  });

  it('rejects UNC, drive and empty locations too, naming them', () => {
    for (const [bad, why] of [['\\\\server\\share\\w.bin', 'is absolute'], ['C:/w.bin', 'is absolute'], ['c:w.bin', 'is absolute'], ['', 'is empty'], ['./', 'names no file'], ['a\u0000b', 'contains a NUL byte']]) {
      expect(() => checkExternalLocation(bad!)).toThrow(`external data location ${JSON.stringify(bad)} ${why}; expected a relative path inside the model's folder`);
    }
  });

  it('rejects locations outside the model folder, naming them', async () => {
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'a/../../b', 'C:\\x', '..\\secret']) {
      expect(() => checkExternalLocation(bad)).toThrow(new RegExp(`external data location ${JSON.stringify(bad).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`));
    }
    const written = writeModel(m, { externalData: { location: 'w.bin' } });
    const evil = decodeModel(written.model);
    evil.graph!.initializer[0]!.externalData[0]!.value = '../../etc/passwd';
    await expect(readModel(encodeModel(evil), { resolveExternal: () => new Uint8Array(0) })).rejects.toThrow(/"\.\.\/\.\.\/etc\/passwd" leaves the model folder/);
    await expect(readModel(written.model)).rejects.toThrow(/external file "w.bin"; pass resolveExternal/);
  });
});
