import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TelemetryEventSchema, type TelemetryEvent } from '@lepton/contracts';
import { syncDir } from './atomic-file';

export type NewEvent = Omit<TelemetryEvent, 'id' | 'at'>;

/** Where the outbox says what it could not keep (the agent's JSON log). */
export type OutboxLog = (event: string, fields: Record<string, unknown>) => void;

/** Events per delivery request (the server accepts up to 1000). */
const BATCH = 500;
/** A segment is sealed for delivery beyond this size. */
const SEGMENT_BYTES = 256 * 1024;

/**
 * Durable telemetry outbox: events are appended (one JSON line each) to segment files under `dir`, fsynced in
 * small groups, and deleted only after the server acknowledged them. Delivery is at least once (a crash between
 * the acknowledgment and the delete sends a segment again); each event carries an idempotency key
 * (`<boot id>-<n>`) so the server stores it exactly once. The folder is bounded: past `maxBytes` the oldest
 * sealed segments are dropped (counted in `dropped`), never the newest events; each drop is logged
 * (`telemetry.dropped`) and becomes a `health` event (code TELEMETRY_DROPPED), so the server hears of the gap.
 * A folder that cannot be written (deleted, replaced, disk full or read-only) loses nothing silently: the folder
 * is made again on the next write, and until a write succeeds the events stay in memory (within `maxBytes`),
 * are delivered from there, and `telemetry.write-failed` says why.
 */
export class Outbox {
  private readonly boot = randomBytes(6).toString('hex');
  private n = 0;
  private pending: string[] = [];
  private seq = 0;
  private current = '';
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** The last write failed: events wait in `pending` (and are delivered from memory). */
  private writeFailing = false;
  dropped = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly log: OutboxLog = () => undefined,
  ) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const seqs = (await this.segments()).map(seqOf);
    this.seq = seqs.length > 0 ? Math.max(...seqs) + 1 : 1;
    this.current = this.segmentName(this.seq);
  }

  /** Record an event; it reaches the disk within a few milliseconds (grouped fsync). */
  add(event: NewEvent): string {
    const id = `${this.boot}-${++this.n}`;
    this.pending.push(JSON.stringify({ ...event, id, at: new Date().toISOString() }));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, 5);
    return id;
  }

  /** Write buffered events to the current segment and fsync them; on failure they stay buffered (never thrown). */
  flush(): Promise<void> {
    return this.serial(async () => {
      if (this.pending.length === 0) return;
      // Taken off `pending` only once on disk, so a delivery meanwhile still sees them (and a failure keeps them).
      const batch = this.pending.slice();
      try {
        // Made again if someone removed it while the agent runs (it used to stay gone: every event lost).
        await mkdir(this.dir, { recursive: true });
        const fh = await open(join(this.dir, this.current), 'a', 0o600);
        try {
          await fh.write(`${batch.join('\n')}\n`);
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        this.boundPending();
        if (!this.writeFailing) {
          this.writeFailing = true;
          this.log('telemetry.write-failed', {
            dir: this.dir,
            message: (err as Error).message,
            kept: this.pending.length,
            note: 'events are kept in memory (within EDGE_OUTBOX_MAX_BYTES) and delivered from there until the folder can be written',
          });
        }
        return;
      }
      const written = new Set(batch);
      this.pending = this.pending.filter((l) => !written.has(l));
      if (this.writeFailing) {
        this.writeFailing = false;
        this.log('telemetry.write-recovered', { dir: this.dir });
      }
      if ((await stat(join(this.dir, this.current))).size >= SEGMENT_BYTES) await this.seal();
      await this.bound();
    });
  }

  /**
   * Send everything on disk, oldest first, through `send`; a segment is deleted once all its events were
   * acknowledged. Stops at the first failure (the rest stays for the next attempt). Returns events sent.
   */
  async deliver(send: (events: TelemetryEvent[]) => Promise<unknown>): Promise<number> {
    await this.flush();
    await this.serial(() => this.seal());
    let sent = 0;
    for (const name of await this.segments()) {
      if (name === this.current) continue;
      // A segment dropped by the size bound meanwhile is simply gone.
      const events = parseSegment(await readFile(join(this.dir, name), 'utf8').catch(() => ''));
      for (let i = 0; i < events.length; i += BATCH) {
        await send(events.slice(i, i + BATCH));
        sent += Math.min(BATCH, events.length - i);
      }
      await rm(join(this.dir, name), { force: true });
    }
    // Events the disk would not take: deliver them from memory rather than hold them until it recovers.
    if (this.writeFailing && this.pending.length > 0) {
      const lines = this.pending.slice();
      const events = parseSegment(lines.join('\n'));
      for (let i = 0; i < events.length; i += BATCH) await send(events.slice(i, i + BATCH));
      const done = new Set(lines);
      this.pending = this.pending.filter((l) => !done.has(l));
      sent += events.length;
    }
    return sent;
  }

  /** Events waiting on disk or in memory (approximate: counts lines). */
  async backlog(): Promise<number> {
    let count = this.pending.length;
    for (const name of await this.segments()) count += parseSegment(await readFile(join(this.dir, name), 'utf8').catch(() => '')).length;
    return count;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async seal(): Promise<void> {
    this.seq += 1;
    this.current = this.segmentName(this.seq);
    await syncDir(this.dir);
  }

  private async bound(): Promise<void> {
    const names = await this.segments();
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(this.dir, n))).size));
    let total = sizes.reduce((a, b) => a + b, 0);
    let dropped = 0;
    for (let i = 0; i < names.length && total > this.maxBytes; i++) {
      if (names[i] === this.current) continue;
      dropped += parseSegment(await readFile(join(this.dir, names[i]!), 'utf8').catch(() => '')).length;
      await rm(join(this.dir, names[i]!), { force: true });
      total -= sizes[i]!;
    }
    if (dropped > 0) this.noteDropped(dropped);
  }

  /** Memory is bounded like the folder while the disk fails: the oldest buffered events go first. */
  private boundPending(): void {
    let total = this.pending.reduce((a, l) => a + l.length + 1, 0);
    let n = 0;
    while (this.pending.length > 1 && total > this.maxBytes) {
      total -= this.pending.shift()!.length + 1;
      n += 1;
    }
    if (n > 0) this.noteDropped(n);
  }

  /** Say what was lost, in the log and to the server (a health event; itself subject to the same bound). */
  private noteDropped(n: number): void {
    this.dropped += n;
    const message = `${n} telemetry events were dropped, oldest first, because the outbox passed EDGE_OUTBOX_MAX_BYTES (${this.maxBytes} bytes) before they could be delivered; ${this.dropped} dropped since start`;
    this.log('telemetry.dropped', { events: n, total: this.dropped, maxBytes: this.maxBytes });
    this.add({ kind: 'health', ok: false, code: 'TELEMETRY_DROPPED', message });
  }

  private segmentName(seq: number): string {
    return `seg-${String(seq).padStart(10, '0')}.jsonl`;
  }

  private async segments(): Promise<string[]> {
    // No folder (removed while running): nothing on disk; the next write makes it again.
    return (await readdir(this.dir).catch(() => [] as string[])).filter((n) => /^seg-\d{10}\.jsonl$/.test(n)).sort();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function seqOf(name: string): number {
  return Number(name.slice(4, 14));
}

/** Events of one segment; a line torn by a crash mid-write is skipped (it was never acknowledged). */
function parseSegment(text: string): TelemetryEvent[] {
  const out: TelemetryEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = TelemetryEventSchema.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      /* torn line */
    }
  }
  return out;
}
