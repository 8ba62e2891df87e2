import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import type { DType, Tensor } from '@lepton/tensor-core';
import { WireTensorSchema, decodeWireTensor, encodeWireTensor, type ModelManifestInput } from '@lepton/contracts';
import { createPredictor } from '../src';
import { ort } from './support/model';

// Lepton <-> onnxruntime tensor conversion for every storage convention, through a real onnxruntime-node session:
// Identity nodes return each input unchanged, so the outputs must equal the inputs bit for bit. int4 has no
// Identity kernel in onnxruntime 1.30's CPU provider, and the onnxruntime-node binding refuses int4 feeds.
const { onnx } = onnxProto;

const ONNX_TYPE: Record<string, number> = { uint8: 2, float16: 10, bool: 9, int64: 7, uint64: 13, string: 8, int8: 3, float64: 11, uint16: 4, int4: 22, float32: 1 };

function valueInfo(name: string, dtype: DType, shape: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: ONNX_TYPE[dtype]!, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  });
}

function identityModel(tensors: Record<string, Tensor>): { model: Uint8Array; manifest: ModelManifestInput } {
  const entries = Object.entries(tensors);
  const graph = onnx.GraphProto.create({
    name: 'identity',
    node: entries.map(([n]) => onnx.NodeProto.create({ opType: 'Identity', input: [n], output: [`${n}_out`] })),
    input: entries.map(([n, t]) => valueInfo(n, t.dtype, [...t.shape])),
    output: entries.map(([n, t]) => valueInfo(`${n}_out`, t.dtype, [...t.shape])),
  });
  const model = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph })).finish();
  const spec = (name: string, t: Tensor) => ({ name, dtype: t.dtype, shape: [...t.shape] });
  return {
    model,
    manifest: {
      id: 'identity',
      name: 'identity',
      version: '1',
      task: 'generic',
      inputs: entries.map(([n, t]) => spec(n, t)),
      outputs: entries.map(([n, t]) => spec(`${n}_out`, t)),
    },
  };
}

describe('tensor conversion through onnxruntime-node', () => {
  it('float16 bits, bool, int64/uint64 extremes, strings and more come back unchanged', async () => {
    const feeds: Record<string, Tensor> = {
      h: { dtype: 'float16', shape: [4], data: Uint16Array.from([0x3c00, 0x7e00, 0x8000, 0x0001]) },
      b: { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      i: { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]) },
      u: { dtype: 'uint64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
      s: { dtype: 'string', shape: [2], data: ['a', 'é🙂'] },
      d: { dtype: 'float64', shape: [2, 1], data: Float64Array.from([-0, Math.PI]) },
      w: { dtype: 'uint16', shape: [1], data: Uint16Array.from([65535]) },
      // A view at an odd offset of a larger buffer, as pooled buffers arrive.
      k: { dtype: 'int8', shape: [3], data: new Int8Array(new Int8Array([9, -128, 0, 127, 9]).buffer, 1, 3) },
    };
    const { model, manifest } = identityModel(feeds);
    const p = await createPredictor({ manifest, model, ort });
    const out = await p.run(feeds);
    for (const [name, t] of Object.entries(feeds)) {
      const o = out[`${name}_out`]!;
      expect(o.dtype, name).toBe(t.dtype);
      expect(o.shape, name).toEqual(t.shape);
      expect(o.data.constructor, name).toBe(t.data.constructor);
      expect(Array.from(o.data as ArrayLike<unknown>), name).toEqual(Array.from(t.data as ArrayLike<unknown>));
      if (!Array.isArray(o.data)) expect((o.data as Uint8Array).byteOffset, name).toBe(0);
    }
    await p.release();
  });

  it('int4 feeds reach onnxruntime as packed bytes; onnxruntime-node 1.30 refuses them (INFERENCE_FAILED)', async () => {
    const graph = onnx.GraphProto.create({
      name: 'dq',
      node: [onnx.NodeProto.create({ opType: 'DequantizeLinear', input: ['q', 'scale'], output: ['y'] })],
      initializer: [onnx.TensorProto.create({ name: 'scale', dataType: 1, dims: [], floatData: [1] })],
      input: [valueInfo('q', 'int4', [3])],
      output: [valueInfo('y', 'float32', [3])],
    });
    const model = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 10, opsetImport: [{ domain: '', version: 21 }], graph })).finish();
    const manifest: ModelManifestInput = {
      id: 'dq',
      name: 'dq',
      version: '1',
      task: 'generic',
      inputs: [{ name: 'q', dtype: 'int4', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
    };
    const p = await createPredictor({ manifest, model, ort });
    // onnxruntime-common accepts the packed Uint8Array (an Int8Array would throw in its constructor); the native
    // binding then reports the type. Other backends may accept int4, so the predictor does not refuse it up front.
    await expect(p.run({ q: { dtype: 'int4', shape: [3], data: Uint8Array.from([0x7f, 0x08]) } })).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
      message: expect.stringContaining('int4'),
    });
    await p.release();
  });

  it('bfloat16 cannot be handed to onnxruntime-common and says so', async () => {
    const { model, manifest } = identityModel({ h: { dtype: 'float16', shape: [1], data: new Uint16Array(1) } });
    const p = await createPredictor({ manifest: { ...manifest, inputs: [{ name: 'h', dtype: 'bfloat16', shape: [1] }] }, model, ort });
    await expect(p.run({ h: { dtype: 'bfloat16', shape: [1], data: new Uint16Array(1) } })).rejects.toMatchObject({
      code: 'DTYPE_UNSUPPORTED',
    });
    await p.release();
  });
});

describe('field case int64-beyond-2^53: identical after the wire and after onnxruntime Identity', () => {
  const values = ['9007199254740993', '-9223372036854775808', '9223372036854775807', '16000'];

  it.each(['base64', 'array'] as const)('%s wire form -> Identity -> %s wire form', async (format) => {
    const t: Tensor = { dtype: 'int64', shape: [4], data: BigInt64Array.from(values.map(BigInt)) };
    const { model, manifest } = identityModel({ i: t });
    const p = await createPredictor({ manifest, model, ort });
    const sent = JSON.parse(JSON.stringify(encodeWireTensor('i', t, format)));
    const out = await p.run({ i: decodeWireTensor(WireTensorSchema.parse(sent)) });
    const back = decodeWireTensor(WireTensorSchema.parse(JSON.parse(JSON.stringify(encodeWireTensor('i_out', out['i_out']!, format)))));
    expect(Array.from(back.data as BigInt64Array, String)).toEqual(values);
    await p.release();
  });
});

describe('field case int64-scalar-input: a scalar int64 fed to the predictor directly', () => {
  const scalar: Tensor = { dtype: 'int64', shape: [], data: BigInt64Array.of(16000n) };
  const pixels: Tensor = { dtype: 'uint8', shape: [2], data: Uint8Array.of(1, 2) };

  it('as a number, a decimal string or a bigint in a plain array: exact, like the wire form', async () => {
    const { model, manifest } = identityModel({ sr: scalar });
    const p = await createPredictor({ manifest, model, ort });
    for (const data of [[16000], ['16000'], [16000n], ['9007199254740993'], [2n ** 63n - 1n]]) {
      const out = await p.run({ sr: { dtype: 'int64', shape: [], data } as unknown as Tensor });
      expect(out['sr_out']!.data).toEqual(BigInt64Array.of(BigInt(String(data[0]))));
    }
    await p.release();
  });

  it('refuses what would lose precision or reach onnxruntime as the wrong storage, naming it (TENSOR_ENCODING_INVALID)', async () => {
    const { model, manifest } = identityModel({ sr: scalar, px: pixels });
    const p = await createPredictor({ manifest, model, ort });
    const px = { dtype: 'uint8', shape: [2], data: Uint8Array.of(1, 2) } as Tensor;
    // onnxruntime-common turned [9007199254740993] into 9007199254740992 without a word.
    const parsed = (JSON.parse('[9007199254740993]') as number[])[0]!; // what a JSON client's number arrives as
    await expect(p.run({ sr: { dtype: 'int64', shape: [], data: [parsed] } as unknown as Tensor, px })).rejects.toMatchObject({
      code: 'TENSOR_ENCODING_INVALID',
      message: expect.stringContaining('send 64-bit integers as decimal strings'),
    });
    // Wrong typed arrays were onnxruntime-common's untyped TypeError ("A int64 tensor's data must be type of ...").
    const wrong: [Tensor['data'], string][] = [
      [Int32Array.of(16000), "input 'sr' (int64) holds an Int32Array; expected a BigInt64Array"],
      [Float64Array.of(16000), "input 'sr' (int64) holds a Float64Array; expected a BigInt64Array"],
      [BigUint64Array.of(16000n), "input 'sr' (int64) holds a BigUint64Array; expected a BigInt64Array"],
    ];
    for (const [data, message] of wrong) {
      await expect(p.run({ sr: { dtype: 'int64', shape: [], data } as Tensor, px })).rejects.toMatchObject({ code: 'TENSOR_ENCODING_INVALID', message });
    }
    // Node Buffers and canvas bytes are uint8 storage too.
    for (const data of [Buffer.from([1, 2]), Uint8ClampedArray.of(1, 2)]) {
      const out = await p.run({ sr: scalar, px: { dtype: 'uint8', shape: [2], data: data as Uint8Array } });
      expect(Array.from(out['px_out']!.data as Uint8Array)).toEqual([1, 2]);
    }
    await p.release();
  });
});
