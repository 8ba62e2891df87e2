import { describe, expect, it } from 'vitest';
import {
  SESSION_OPTIONS_KEY,
  convertFloat16,
  decodeModel,
  dequantizedMatMuls,
  encodeModel,
  quantizeDynamic,
  quantizeWeightsInt8,
  recordedSessionOptions,
  requiredSessionOptions,
  sessionOptionsOf,
  stampSessionOptions,
} from '../src';
import { gemmModel, matmulModel } from '../src/testing';
import { sileroBytes } from './support/data';

const metadata = (m: Uint8Array | ReturnType<typeof decodeModel>) => (m instanceof Uint8Array ? decodeModel(m) : m).metadataProps.filter((p) => p.key === SESSION_OPTIONS_KEY);

describe('requiredSessionOptions / stampSessionOptions / recordedSessionOptions (lepton.session_options)', () => {
  it('int8-weight MatMul and Gemm (transB 0) require basic; fp16, int8-dynamic and Silero int8-weight require nothing', () => {
    for (const [name, fp32] of [['MatMul', matmulModel(2, 24, 12)], ['Gemm', gemmModel(2, 24, 10, 0)]] as const) {
      const q = quantizeWeightsInt8(fp32, { perChannel: true });
      expect(dequantizedMatMuls(q.model), name).toEqual([`main/${name}_Y`]);
      expect(requiredSessionOptions(q.proto), name).toEqual({ graphOptimizationLevel: 'basic' });
      expect(requiredSessionOptions(convertFloat16(fp32).proto), `${name} fp16`).toBeUndefined();
      expect(requiredSessionOptions(fp32), `${name} fp32`).toBeUndefined();
    }
    expect(requiredSessionOptions(quantizeDynamic(matmulModel(2, 24, 12)).proto)).toBeUndefined();
    // Silero's weights are Conv/LSTM: no DequantizeLinear reaches a MatMul, so nothing to record.
    expect(dequantizedMatMuls(quantizeWeightsInt8(sileroBytes()).proto)).toEqual([]);
  });

  it('stamps the options into metadata, reads them back after encoding, and removes a stale record', () => {
    const q = quantizeWeightsInt8(matmulModel(2, 24, 12));
    expect(recordedSessionOptions(q.proto)).toBeUndefined();
    expect(stampSessionOptions(q.proto)).toEqual({ graphOptimizationLevel: 'basic' });
    expect(stampSessionOptions(q.proto)).toEqual({ graphOptimizationLevel: 'basic' });
    const bytes = encodeModel(q.proto);
    expect(metadata(bytes)).toEqual([{ key: SESSION_OPTIONS_KEY, value: '{"graphOptimizationLevel":"basic"}' }]);
    expect(recordedSessionOptions(bytes)).toEqual({ graphOptimizationLevel: 'basic' });
    expect(sessionOptionsOf(bytes)).toEqual({ graphOptimizationLevel: 'basic' });
    // A float model whose metadata says basic (copied from somewhere) is read as recorded, and loses the record
    // once stamped: the graph decides.
    const fp32 = decodeModel(matmulModel(2, 24, 12));
    fp32.metadataProps.push({ key: SESSION_OPTIONS_KEY, value: '{"graphOptimizationLevel":"basic"}' });
    expect(sessionOptionsOf(fp32)).toEqual({ graphOptimizationLevel: 'basic' });
    expect(stampSessionOptions(fp32)).toBeUndefined();
    expect(metadata(fp32)).toEqual([]);
    expect(sessionOptionsOf(fp32)).toBeUndefined();
  });

  it('a record that is not session options is VALIDATION_FAILED naming the key and value', () => {
    for (const value of ['basic', '{"graphOptimizationLevel":"max"}', '{"threads":2}']) {
      const m = decodeModel(matmulModel(2, 4, 3));
      m.metadataProps.push({ key: SESSION_OPTIONS_KEY, value });
      let err: unknown;
      try {
        recordedSessionOptions(m);
      } catch (e) {
        err = e;
      }
      expect(err, value).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((err as Error).message.startsWith(`model metadata lepton.session_options is ${JSON.stringify(value)}; expected JSON session options`), value).toBe(true);
    }
  });
});
