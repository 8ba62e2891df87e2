import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '@lepton/contracts';
import { Outbox } from './outbox';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lepton-outbox-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const infer = (i: number) => ({ kind: 'infer' as const, model: 'm', ok: true, latencyMs: i });

describe('Outbox', () => {
  it('keeps events across a restart and delivers each once the receiver accepts', async () => {
    const d = dir();
    const a = new Outbox(d, 1 << 20);
    await a.open();
    const ids = Array.from({ length: 1200 }, (_, i) => a.add(infer(i)));
    await a.close();
    expect(new Set(ids).size).toBe(1200);

    // A new process: the events are on disk; the first delivery attempt fails half way.
    const b = new Outbox(d, 1 << 20);
    await b.open();
    const received: TelemetryEvent[] = [];
    let calls = 0;
    await expect(
      b.deliver(async (events) => {
        if (++calls === 2) throw new Error('server went away');
        received.push(...events);
      }),
    ).rejects.toThrow('server went away');
    // At least once: what was sent before the failure is sent again, so the receiver dedups by id.
    await b.deliver(async (events) => void received.push(...events));
    const unique = new Map(received.map((e) => [e.id, e]));
    expect([...unique.keys()].sort()).toEqual([...ids].sort());
    expect(received.length).toBeGreaterThan(1200);
    expect(await b.backlog()).toBe(0);
    expect(await b.deliver(async () => undefined)).toBe(0);
  });

  it('skips a line torn by a crash and stays within its size bound, dropping the oldest', async () => {
    const d = dir();
    const first = new Outbox(d, 300 * 1024);
    await first.open();
    first.add(infer(1));
    await first.close();
    // The process died in the middle of writing its next line.
    appendFileSync(join(d, readdirSync(d)[0]!), '{"id":"torn-half-writ');
    const notes: Record<string, unknown>[] = [];
    const o = new Outbox(d, 300 * 1024, (event, fields) => event === 'telemetry.dropped' && notes.push(fields));
    await o.open();
    for (let i = 0; i < 8000; i++) {
      o.add({ ...infer(i), message: 'x'.repeat(100) });
      if (i % 500 === 499) await o.flush();
    }
    await o.close();
    expect(o.dropped).toBeGreaterThan(0);
    const sizes = readdirSync(d).length;
    expect(sizes).toBeGreaterThan(0);
    const got: TelemetryEvent[] = [];
    await o.deliver(async (events) => void got.push(...events));
    // Every drop is said: a log line, and a health event to the server (which can itself be dropped later).
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.reduce((a, n) => a + Number(n['events']), 0)).toBe(o.dropped);
    expect(got.length + o.dropped).toBe(8001 + notes.length);
    const health = got.filter((e) => e.kind === 'health');
    expect(health.length).toBeGreaterThan(0);
    expect(health.at(-1)).toMatchObject({ ok: false, code: 'TELEMETRY_DROPPED', message: expect.stringMatching(/^\d+ telemetry events were dropped, oldest first, because the outbox passed EDGE_OUTBOX_MAX_BYTES \(307200 bytes\)/) });
    expect(got.filter((e) => e.kind === 'infer').at(-1)?.latencyMs).toBe(7999);
  });

  it('loses nothing silently when its folder is removed while running: made again, events kept and delivered', async () => {
    const d = join(dir(), 'outbox');
    const logs: string[] = [];
    const o = new Outbox(d, 1 << 20, (event) => logs.push(event));
    await o.open();
    o.add(infer(1));
    await o.flush();
    rmSync(d, { recursive: true, force: true });
    o.add(infer(2));
    await o.flush();
    const got: TelemetryEvent[] = [];
    // Event 1 went with the folder. Event 2 used to be lost too (the write failed, unsaid), and every delivery
    // after failed on the missing folder (ENOENT: each sync round INTERNAL, backing off as if offline).
    expect(await o.deliver(async (events) => void got.push(...events))).toBe(1);
    expect(got.map((e) => e.latencyMs)).toEqual([2]);
    expect(existsSync(d)).toBe(true);
    expect(logs).toEqual([]);
  });

  it('keeps events in memory, says so and still delivers them while the folder cannot be written', async () => {
    const parent = dir();
    const d = join(parent, 'outbox');
    const logs: { event: string; fields: Record<string, unknown> }[] = [];
    const o = new Outbox(d, 1 << 20, (event, fields) => logs.push({ event, fields }));
    await o.open();
    // A plain file where the folder was (as root, chmod cannot make a folder unwritable): every write fails.
    rmSync(d, { recursive: true, force: true });
    writeFileSync(d, 'not a folder');
    for (let i = 0; i < 3; i++) o.add(infer(i));
    await o.flush();
    o.add(infer(3));
    await o.flush();
    expect(logs.map((l) => l.event)).toEqual(['telemetry.write-failed']);
    expect(logs[0]!.fields).toMatchObject({ dir: d, kept: 3, message: expect.stringMatching(/EEXIST|ENOTDIR/) });
    expect(await o.backlog()).toBe(4);
    const got: TelemetryEvent[] = [];
    expect(await o.deliver(async (events) => void got.push(...events))).toBe(4);
    expect(got.map((e) => e.latencyMs)).toEqual([0, 1, 2, 3]);
    expect(await o.backlog()).toBe(0);
    // The folder comes back: writes resume and say so.
    rmSync(d, { force: true });
    o.add(infer(4));
    await o.close();
    expect(logs.map((l) => l.event)).toEqual(['telemetry.write-failed', 'telemetry.write-recovered']);
    const again = new Outbox(d, 1 << 20);
    await again.open();
    const later: TelemetryEvent[] = [];
    await again.deliver(async (events) => void later.push(...events));
    expect(later.map((e) => e.latencyMs)).toEqual([4]);
  });
});
