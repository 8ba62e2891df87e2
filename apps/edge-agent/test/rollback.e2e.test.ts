import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { BROKEN, MODEL, admin, eventually, registerVersion, trpc } from './fleet-helpers';

/**
 * A version that verifies but does not load is rolled out to 3 agents: each installs it, fails to load it, goes
 * back to its previous version by itself and reports that; once every device failed, the rollout halts.
 */
const TOKEN = 'edge-rollback-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-rollback-'));
let server: Proc;
const agents: Proc[] = [];
const POLL = { EDGE_POLL_MS: '300', EDGE_BACKOFF_MAX_MS: '1000' };

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agents.push(
    ...(await Promise.all([0, 1, 2].map((i) => spawnAgent({ serverUrl: server.url, dataDir: join(tmp, `edge-${i}`), token: TOKEN, extra: POLL })))),
  );
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('automatic rollback', () => {
  it('each agent rolls back a version that fails to load, and the rollout stops', async () => {
    for (const a of agents) expect((await trpc(a.url).models.get.query({ id: MODEL })).version).toBe('5.0.0');
    await registerVersion(server.url, '5.0.1-bad', BROKEN);
    // Halts only when more than 67% failed: all three must have tried it (and rolled back) first.
    const dep = await admin(server.url).deployments.create.mutate({ model: MODEL, version: '5.0.1-bad', target: { all: true }, maxFailureRate: 0.67 });

    const status = await eventually('the rollout to halt', async () => {
      const s = await admin(server.url).deployments.status.query({ id: dep.id });
      return s.status === 'halted' ? s : undefined;
    });
    expect(status.counts).toEqual({ 'rolled-back': 3 });
    expect(status.haltedReason).toBe('3 of 3 devices failed (100% > 67%)');
    expect(status.devices.every((d) => /failed to load/.test(d.message ?? ''))).toBe(true);

    for (const a of agents) {
      expect(a.stderr()).toContain('"event":"model.rollback"');
      // Still serving, locally, on the version it had.
      const r = await trpc(a.url).vad.detect.mutate({ model: MODEL, wav: silence() });
      expect(r.answeredBy).toBe('edge');
      expect(r.version).toBe('5.0.0');
    }
    const devices = await admin(server.url).devices.list.query();
    expect(devices.map((d) => d.installed[MODEL]?.version)).toEqual(['5.0.0', '5.0.0', '5.0.0']);
    expect(devices.every((d) => (d.eventsByKind['rollback'] ?? 0) === 1)).toBe(true);

    // Stopped means stopped: a device that joins after the halt is assigned the last good version, and may not
    // even download the bad one.
    const { token } = await admin(server.url).devices.createToken.mutate({ ttlSeconds: 60 });
    const late = await trpc(server.url).devices.enroll.mutate({ token, name: 'late-joiner' });
    const { assignments } = await trpc(server.url, late.credential).fleet.sync.mutate({});
    expect(assignments.filter((a) => a.model === MODEL).map((a) => a.version)).toEqual(['5.0.0']);
    const bad = await fetch(`${server.url}/api/v1/models/${MODEL}/artifact?version=5.0.1-bad`, { headers: { authorization: `Bearer ${late.credential}` } });
    expect(bad.status).toBe(403);
  }, 120_000);
});

function silence(): string {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + 3200, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(3200, 40);
  return Buffer.concat([h, Buffer.alloc(3200)]).toString('base64');
}
