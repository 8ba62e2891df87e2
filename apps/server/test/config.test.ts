import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src';

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: resolve('./.lepton'),
      databaseUrl: undefined,
      enrollToken: undefined,
      adminKey: undefined,
      pollAfterMs: 30000,
      logLevel: 'info',
      webDir: undefined,
      modelsDir: undefined,
      sessionsPerModel: 2,
      sessionThreads: 'auto',
      idleTimeoutMs: 120000,
      buildVariants: true,
      variantAudioDir: '/usr/share/sounds/alsa',
    });
  });

  it('reads LEPTON_BUILD_VARIANTS as 1/0 (or true/false) and names a bad value', () => {
    expect(loadConfig({ LEPTON_BUILD_VARIANTS: '0' }).buildVariants).toBe(false);
    expect(loadConfig({ LEPTON_BUILD_VARIANTS: 'true' }).buildVariants).toBe(true);
    expect(() => loadConfig({ LEPTON_BUILD_VARIANTS: 'yes' })).toThrow(/^invalid server configuration: LEPTON_BUILD_VARIANTS: expected 1 or 0$/);
  });

  it('reads PORT=0, a postgres URL and treats empty variables as unset', () => {
    const c = loadConfig({ PORT: '0', HOST: '', LEPTON_DATABASE_URL: 'postgres://u:p@db/lepton', LEPTON_ENROLL_TOKEN: 'lepton-dev-enroll-token' });
    expect(c.port).toBe(0);
    expect(c.host).toBe('127.0.0.1');
    expect(c.databaseUrl).toBe('postgres://u:p@db/lepton');
    expect(c.enrollToken).toBe('lepton-dev-enroll-token');
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: '70000', LEPTON_DATABASE_URL: 'mysql://x' })).toThrow(
      /^invalid server configuration: PORT: .*65535.*; LEPTON_DATABASE_URL: expected postgres:\/\/\.\.\., sqlite:PATH or file:PATH$/,
    );
  });
});
