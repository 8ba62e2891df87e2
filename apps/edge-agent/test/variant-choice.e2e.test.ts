import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTensor, decodeWav } from '@lepton/tensor-core';
import { decodeWireTensor, encodeWireTensor } from '@lepton/contracts';
import { speechFixture } from '@lepton/test-fixtures';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, admin, eventually, trpc } from './fleet-helpers';

/**
 * Capability-aware variants end to end: a server that builds Silero's int8-edge variant in the background (the
 * variant builds of the compression work) and two agents that differ only in the memory they report
 * (EDGE_MEMORY_MB). Once the build lands, the small agent switches to int8-edge by itself; the large one keeps
 * fp32; both answer locally, and the server says which variant each runs and why.
 */
const TOKEN = 'edge-variant-choice-token';
let tmp = '';
let server: Proc | undefined;
const agents: Record<'small' | 'large', Proc | undefined> = { small: undefined, large: undefined };

function current(dataDir: string): Record<string, unknown> | undefined {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'models', MODEL, 'state.json'), 'utf8')) as { current: Record<string, unknown> }).current;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-variants-'));
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN, pollMs: 300, buildVariants: true });
  const poll = { EDGE_POLL_MS: '300', EDGE_BACKOFF_MAX_MS: '1000' };
  [agents.small, agents.large] = await Promise.all([
    spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'small'), token: TOKEN, extra: { ...poll, EDGE_MEMORY_MB: '1024', EDGE_DEVICE_NAME: 'small' } }),
    spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'large'), token: TOKEN, extra: { ...poll, EDGE_MEMORY_MB: '16384', EDGE_DEVICE_NAME: 'large' } }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([agents.small?.stop(), agents.large?.stop()]);
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('capability-aware variants', () => {
  it('a small device runs the int8-edge build once it exists, a large one keeps fp32, and the server says why', async () => {
    const record = await eventually(
      'the int8-edge variant build',
      async () => {
        const r = await admin(server!.url).models.get.query({ id: MODEL });
        return r.variants.some((v) => v.id === 'int8-edge') ? r : undefined;
      },
      900,
      200,
    );
    const int8 = record.variants.find((v) => v.id === 'int8-edge')!;
    const fp32 = record.variants.find((v) => v.id === 'fp32')!;
    expect(int8.precision).toBe('int8');
    const small = await eventually('the small agent to run int8-edge', async () => (current(join(tmp, 'small'))?.variant === 'int8-edge' ? current(join(tmp, 'small')) : undefined), 300, 200);
    expect(small).toMatchObject({ version: '5.0.0', variant: 'int8-edge', sha256: int8.sha256, signed: { payload: { precision: 'int8', sha256: int8.sha256 } } });
    // The large agent had the same chances to swap (many polls since the build landed) and stays on fp32.
    const swapped = Date.now();
    await eventually('a sync of the large agent well after the swap', async () => {
      const seen = (await admin(server!.url).devices.list.query()).find((d) => d.name === 'large')?.lastSeenAt;
      return seen && Date.parse(seen) > swapped + 700 ? true : undefined;
    });
    expect(current(join(tmp, 'large'))).toMatchObject({ version: '5.0.0', variant: 'fp32', sha256: fp32.sha256 });

    const devices = await admin(server!.url).devices.list.query();
    const assigned = (name: string) => devices.find((d) => d.name === name)!.assigned![MODEL];
    expect(assigned('small')).toEqual({ version: '5.0.0', variant: 'int8-edge', precision: 'int8', reason: 'int8: 1024 MB memory is under 4096 MB' });
    expect(assigned('large')!.variant).toBe('fp32');
    expect(assigned('large')!.reason).toMatch(/^fp32: /);
    expect(devices.find((d) => d.name === 'small')!.capabilities['memoryMb']).toBe(1024);

    // Both answer on the device; the int8 answer is the fp32 one within quantization error, on real speech.
    const input = new Float32Array(576);
    input.set(decodeWav(readFileSync(speechFixture('quick').path)).samples.subarray(20_000, 20_512), 64);
    const inputs = [encodeWireTensor('input', createTensor('float32', [1, 576], input)), encodeWireTensor('state', createTensor('float32', [2, 1, 128]))];
    const prob = async (agent: Proc) => {
      const r = await trpc(agent.url).infer.mutate({ model: MODEL, inputs });
      expect(r.answeredBy).toBe('edge');
      return (decodeWireTensor(r.outputs.find((o) => o.name === 'output')!).data as Float32Array)[0]!;
    };
    const [p8, p32] = [await prob(agents.small!), await prob(agents.large!)];
    expect(p32).toBeGreaterThan(0);
    expect(Math.abs(p8 - p32)).toBeLessThan(0.3);
  }, 240_000);
});
