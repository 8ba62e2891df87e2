import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { createCaller } from '../src';
import { isLoopbackUrl } from '../src/routers/parity';
import { fakeServices } from './fake-services';

/**
 * parity.run makes the server call `edgeUrl` itself. Anonymous callers may only name an agent on the server's own
 * machine; any other host needs a client or admin key, so the procedure cannot be used to reach the server's network.
 */
describe('parity.run edgeUrl', () => {
  it('tells loopback URLs from others', () => {
    for (const u of ['http://127.0.0.1:8081', 'http://localhost:8081/', 'https://127.10.0.3', 'http://[::1]:8081', 'http://user@127.0.0.1:1']) {
      expect(isLoopbackUrl(u), u).toBe(true);
    }
    for (const u of ['http://10.0.0.5:8081', 'http://127.0.0.1.example.com', 'http://localhost.evil:80', 'http://[::2]', 'ftp://127.0.0.1', 'http://127.0.0.1@evil.example', 'file:///etc/passwd']) {
      expect(isLoopbackUrl(u), u).toBe(false);
    }
  });

  function servicesWithParity() {
    const { services } = fakeServices();
    const seen: unknown[] = [];
    const parity = { run: async (req: unknown) => (seen.push(req), { ok: true }) };
    return { services: Object.assign(services, { parity }), seen };
  }

  it('refuses an anonymous caller naming another host, before anything is called', async () => {
    const { services, seen } = servicesWithParity();
    const caller = createCaller({ services, auth: { principal: undefined } } as never);
    const err = await caller.parity.run({ model: 'toy', wav: 'AA==', platforms: ['edge'], edgeUrl: 'http://192.0.2.7:8081' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('UNAUTHORIZED');
    expect((err as TRPCError).message).toContain('"http://192.0.2.7:8081" (not a loopback address)');
    expect(seen).toHaveLength(0);
  });

  it('lets an anonymous caller name a loopback agent, and a client key any host', async () => {
    const { services, seen } = servicesWithParity();
    const anon = createCaller({ services, auth: { principal: undefined } } as never);
    await anon.parity.run({ model: 'toy', wav: 'AA==', platforms: ['edge'], edgeUrl: 'http://127.0.0.1:8081' });
    const client = createCaller({ services, auth: { principal: { role: 'client', id: 'k1' } } } as never);
    await client.parity.run({ model: 'toy', wav: 'AA==', platforms: ['edge'], edgeUrl: 'http://192.0.2.7:8081' });
    expect(seen.map((r) => (r as { edgeUrl: string }).edgeUrl)).toEqual(['http://127.0.0.1:8081', 'http://192.0.2.7:8081']);
  });
});
