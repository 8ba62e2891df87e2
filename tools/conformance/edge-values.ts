import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_INFO, type Tensor } from '@lepton/tensor-core';
import { encodeTensorProto, tensorToProto } from '@lepton/onnx';
import type { TestRef } from './suite';
import { oneNodeModel } from './test-models';

/**
 * The values a wire format or a runtime binding is most likely to get wrong, per dtype: 64-bit integers beyond
 * 2^53 (the ONNX suite has none), NaN with a payload, -0, subnormals, the extremes of every integer type,
 * strings with NUL, astral-plane and empty elements. Used by the wire round trips and by the Identity runs
 * through every conformance path.
 */
export function edgeValueTensors(): { name: string; tensor: Tensor }[] {
  const f32 = new Float32Array(new Uint32Array([0x00000000, 0x80000000, 0x7fc00001, 0xffc00000, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff, 0x3dcccccd]).buffer);
  const f64 = new Float64Array(
    new BigUint64Array([0n, 0x8000000000000000n, 0x7ff8000000000001n, 0x7ff0000000000000n, 0xfff0000000000000n, 1n, 0x7fefffffffffffffn, 0x3fb999999999999an]).buffer,
  );
  const out: Tensor[] = [
    { dtype: 'float32', shape: [f32.length], data: f32 },
    { dtype: 'float64', shape: [f64.length], data: f64 },
    // 1.0, -0, NaN payload, -Inf, +Inf, smallest subnormal, largest finite, largest subnormal
    { dtype: 'float16', shape: [8], data: Uint16Array.of(0x3c00, 0x8000, 0x7e01, 0xfc00, 0x7c00, 0x0001, 0x7bff, 0x03ff) },
    { dtype: 'bfloat16', shape: [6], data: Uint16Array.of(0x3f80, 0x8000, 0x7fc1, 0xff80, 0x0001, 0x7f7f) },
    { dtype: 'int8', shape: [4], data: Int8Array.of(-128, 127, 0, -1) },
    { dtype: 'uint8', shape: [3], data: Uint8Array.of(0, 255, 128) },
    { dtype: 'int16', shape: [3], data: Int16Array.of(-32768, 32767, -1) },
    { dtype: 'uint16', shape: [3], data: Uint16Array.of(0, 65535, 32768) },
    { dtype: 'int32', shape: [3], data: Int32Array.of(-2147483648, 2147483647, -1) },
    { dtype: 'uint32', shape: [3], data: Uint32Array.of(0, 4294967295, 2147483648) },
    { dtype: 'int64', shape: [6], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n + 1n), 0n, -1n) },
    { dtype: 'uint64', shape: [4], data: BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 63n + 1n, 2n ** 53n + 1n) },
    { dtype: 'bool', shape: [2, 2], data: Uint8Array.of(1, 0, 0, 1) },
    { dtype: 'string', shape: [4], data: ['', 'a', 'ünïcødé ✓', '𝄞 astral'] },
  ];
  // A NUL inside a string element: our wire keeps it; onnxruntime's JS bindings cut the element there (measured on
  // node and web alike), so it is its own test and the report names that.
  const nul: Tensor = { dtype: 'string', shape: [2], data: ['nul\u0000inside', 'after'] };
  return [...out.map((tensor) => ({ name: tensor.dtype as string, tensor })), { name: 'string_with_nul', tensor: nul }];
}

/** Little-endian element bytes (strings as JSON), for bit-for-bit comparisons. */
export function tensorBytesHex(t: Tensor): string {
  if (t.dtype === 'string') return JSON.stringify(t.data);
  const d = t.data as Exclude<Tensor['data'], string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
}

export const EDGE_VALUES_SUITE = 'lepton-edge-values';

/**
 * The edge values as ONNX backend tests (Identity per dtype, model.onnx + test_data_set_0 with input_0.pb and
 * output_0.pb) under `root`, so they run on every conformance path beside the suite, compared bit for bit.
 */
export function writeEdgeValueTests(root: string): TestRef[] {
  return edgeValueTensors().map(({ name: what, tensor }) => {
    const name = `test_identity_edge_values_${what}`;
    const dir = join(root, EDGE_VALUES_SUITE, name);
    mkdirSync(join(dir, 'test_data_set_0'), { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), oneNodeModel('Identity', DTYPE_INFO[tensor.dtype].onnx, tensor.shape));
    writeFileSync(join(dir, 'test_data_set_0', 'input_0.pb'), encodeTensorProto(tensorToProto('x', tensor)));
    writeFileSync(join(dir, 'test_data_set_0', 'output_0.pb'), encodeTensorProto(tensorToProto('y', tensor)));
    return { suite: EDGE_VALUES_SUITE, name, dir, bitExact: true };
  });
}
