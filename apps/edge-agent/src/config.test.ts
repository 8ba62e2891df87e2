import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from './config';

describe('loadEdgeConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadEdgeConfig({}, '/srv/device');
    expect(c).toEqual({
      port: 8081,
      host: '127.0.0.1',
      serverUrl: 'http://127.0.0.1:8080',
      enrollToken: undefined,
      dataDir: '/srv/device/.lepton/edge',
      models: ['silero-vad-v5'],
      deviceName: hostname(),
      upstreamTimeoutMs: 15_000,
      pollMs: undefined,
      backoffMaxMs: 300_000,
      outboxMaxBytes: 16 * 1024 * 1024,
      cacheMaxBytes: 2 * 1024 * 1024 * 1024,
      healthMinCalls: 20,
      memoryMb: undefined,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable, trims the server URL and splits the model list', () => {
    const c = loadEdgeConfig(
      {
        EDGE_PORT: '0',
        EDGE_HOST: '0.0.0.0',
        LEPTON_SERVER_URL: 'https://lepton.example:9000/',
        LEPTON_ENROLL_TOKEN: 'tok-123456',
        EDGE_DATA_DIR: '/var/lib/lepton',
        EDGE_MODELS: 'silero-vad-v5, other-model ,',
        EDGE_MEMORY_MB: '1024',
      },
      '/x',
    );
    expect(c.port).toBe(0);
    expect(c.serverUrl).toBe('https://lepton.example:9000');
    expect(c.enrollToken).toBe('tok-123456');
    expect(c.dataDir).toBe('/var/lib/lepton');
    expect(c.models).toEqual(['silero-vad-v5', 'other-model']);
    expect(c.memoryMb).toBe(1024);
  });

  it('treats an empty variable as unset and an empty model list as forward-only', () => {
    expect(loadEdgeConfig({ EDGE_PORT: '', LEPTON_ENROLL_TOKEN: '' }).port).toBe(8081);
    expect(loadEdgeConfig({ EDGE_MODELS: ' , ' }).models).toEqual([]);
    expect(loadEdgeConfig({ EDGE_MODELS: '' }).models).toEqual([]);
  });

  it.each([
    [{ EDGE_PORT: '70000' }, 'EDGE_PORT'],
    [{ EDGE_PORT: 'abc' }, 'EDGE_PORT'],
    [{ LEPTON_SERVER_URL: 'ftp://host' }, 'LEPTON_SERVER_URL'],
    [{ EDGE_MODELS: 'Bad Model' }, 'EDGE_MODELS'],
    [{ EDGE_MEMORY_MB: '8' }, 'EDGE_MEMORY_MB'],
    [{ EDGE_MEMORY_MB: '1.5' }, 'EDGE_MEMORY_MB'],
  ])('rejects %o with VALIDATION_FAILED naming %s', (env, name) => {
    expect(() => loadEdgeConfig(env)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringContaining(name) }));
  });
});
