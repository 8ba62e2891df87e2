import { mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
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
    const o = new Outbox(d, 300 * 1024);
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
    expect(got.length + o.dropped).toBe(8001);
    expect(got.at(-1)?.latencyMs).toBe(7999);
  });
});
