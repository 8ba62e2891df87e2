import { describe, expect, it } from 'vitest';
import { LeptonError } from '@lepton/tensor-core';
import { describeError, formatError } from './errors';

describe('describeError', () => {
  it('keeps a LeptonError code and message', () => {
    const e = describeError(new LeptonError('WAV_INVALID', 'byte 0 is 0x74; expected "RIFF"'), 'browser');
    expect(e).toEqual({ code: 'WAV_INVALID', message: 'byte 0 is 0x74; expected "RIFF"', platform: 'browser' });
    expect(formatError(e)).toBe('browser: WAV_INVALID: byte 0 is 0x74; expected "RIFF"');
  });

  it('reads our code from a tRPC error body (data.lepton), falling back to the tRPC code', () => {
    const withLepton = Object.assign(new Error('shape message'), {
      data: { code: 'BAD_REQUEST', lepton: { code: 'MODEL_NOT_FOUND', message: 'model "x" is not registered' } },
    });
    expect(describeError(withLepton, 'server')).toEqual({ code: 'MODEL_NOT_FOUND', message: 'model "x" is not registered', platform: 'server' });
    const trpcOnly = Object.assign(new Error('Unexpected token'), { data: { code: 'PARSE_ERROR' } });
    expect(describeError(trpcOnly, 'server')).toEqual({ code: 'PARSE_ERROR', message: 'Unexpected token', platform: 'server' });
  });

  it('names plain errors and non-errors without losing the message', () => {
    expect(describeError(new TypeError('fetch failed'), 'page')).toEqual({ code: 'TypeError', message: 'fetch failed', platform: 'page' });
    expect(describeError(new Error('boom'), 'page').code).toBe('INTERNAL');
    expect(describeError('weird', 'page')).toEqual({ code: 'INTERNAL', message: 'weird', platform: 'page' });
  });
});
