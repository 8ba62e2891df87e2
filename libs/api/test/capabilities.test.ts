import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { describe, expect, it } from 'vitest';
import { appRouter, MAX_CAPABILITIES_CHARS, MAX_CAPABILITIES_DEPTH } from '../src';
import { fakeServices } from './fake-services';

/**
 * Device capabilities keep unknown keys, so their size and nesting must be bounded before anything stores them.
 * Bodies go as raw JSON text through tRPC's fetch adapter, as a device's request would.
 */
async function enroll(body: string) {
  const { services, calls } = fakeServices({ devices: true });
  const res = await fetchRequestHandler({
    endpoint: '/trpc',
    router: appRouter,
    createContext: () => ({ services }),
    req: new Request('http://localhost/trpc/devices.enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
  });
  const json = (await res.json()) as { error?: { data: { lepton: { code: string; message: string } } } };
  return { status: res.status, lepton: json.error?.data.lepton, calls };
}

describe('devices.enroll capabilities bounds', () => {
  it('refuses capabilities nested deeper than the limit (5000 levels overflowed JSON.stringify in the registry: a 500)', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const { status, lepton, calls } = await enroll(`{"token":"t","name":"pi","capabilities":{"x":${deep}}}`);
    expect(status).toBe(400);
    expect(lepton?.code).toBe('VALIDATION_FAILED');
    expect(lepton?.message).toBe(`capabilities: capabilities nest more than ${MAX_CAPABILITIES_DEPTH} levels deep; expected a flat object of short values`);
    expect(calls.enroll).toBeUndefined();
  });

  it('refuses capabilities larger than the limit as JSON (an unknown key carried 9 MB into the registry)', async () => {
    const caps = JSON.stringify({ arch: 'arm64', junk: 'x'.repeat(MAX_CAPABILITIES_CHARS) });
    const { status, lepton, calls } = await enroll(`{"token":"t","name":"pi","capabilities":${caps}}`);
    expect(status).toBe(400);
    expect(lepton?.code).toBe('VALIDATION_FAILED');
    expect(lepton?.message).toBe(`capabilities: capabilities take ${caps.length} characters as JSON; expected at most ${MAX_CAPABILITIES_CHARS}`);
    expect(calls.enroll).toBeUndefined();
  });

  it('keeps accepting real capabilities, unknown keys and a little nesting included', async () => {
    const caps = { arch: 'arm64', precisions: ['int8', 'fp32'], cpuFeatures: ['neon'], gpu: { name: 'none', nested: [[1]] } };
    const { status, calls } = await enroll(JSON.stringify({ token: 't', name: 'pi', capabilities: caps }));
    expect(status).toBe(200);
    expect(calls.enroll).toEqual({ token: 't', name: 'pi', capabilities: caps });
  });
});
