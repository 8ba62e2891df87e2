import type { Kysely } from 'kysely';
import type { TelemetryEvent } from '@lepton/contracts';
import type { RegistryDatabase } from '../db/schema';

/** Keep this many recent latencies per device for the fleet view. */
const RECENT = 100;

/**
 * Device telemetry. The primary key (device_id, event_id) makes ingestion idempotent: devices deliver at least
 * once, and a redelivered event is counted as a duplicate, not stored again.
 */
export class TelemetryStore {
  constructor(private readonly db: Kysely<RegistryDatabase>) {}

  async ingest(deviceId: string, events: TelemetryEvent[]): Promise<{ stored: number; duplicates: number }> {
    const now = new Date().toISOString();
    let stored = 0;
    await this.db.transaction().execute(async (trx) => {
      for (const e of events) {
        const res = await trx
          .insertInto('telemetry')
          .values({
            device_id: deviceId,
            event_id: e.id,
            at: e.at,
            kind: e.kind,
            model: e.model ?? null,
            version: e.version ?? null,
            latency_ms: e.latencyMs ?? null,
            ok: e.ok ? 1 : 0,
            answered_by: e.answeredBy ?? null,
            code: e.code ?? null,
            message: e.message ?? null,
            received_at: now,
          })
          .onConflict((oc) => oc.columns(['device_id', 'event_id']).doNothing())
          .executeTakeFirst();
        stored += Number(res.numInsertedOrUpdatedRows ?? 0n);
      }
    });
    return { stored, duplicates: events.length - stored };
  }

  /** Recent infer latencies (oldest first), error share and event count of one device. */
  async summary(deviceId: string): Promise<{ latencies: number[]; errorRate: number; events: number; eventsByKind: Record<string, number> }> {
    const recent = await this.db
      .selectFrom('telemetry')
      .select(['latency_ms', 'ok'])
      .where('device_id', '=', deviceId)
      .where('kind', '=', 'infer')
      .orderBy('at', 'desc')
      .orderBy('event_id', 'desc')
      .limit(RECENT)
      .execute();
    const counts = await this.db
      .selectFrom('telemetry')
      .select(['kind', (eb) => eb.fn.countAll().as('n')])
      .where('device_id', '=', deviceId)
      .groupBy('kind')
      .execute();
    const eventsByKind = Object.fromEntries(counts.map((c) => [c.kind, Number(c.n)]));
    const errors = recent.filter((r) => Number(r.ok) === 0).length;
    return {
      latencies: recent.filter((r) => r.latency_ms !== null).map((r) => Number(r.latency_ms)).reverse(),
      errorRate: recent.length === 0 ? 0 : errors / recent.length,
      events: counts.reduce((a, c) => a + Number(c.n), 0),
      eventsByKind,
    };
  }

  /** Events of one device, by kind (tests and operators). */
  async events(deviceId: string, kind?: string): Promise<{ id: string; kind: string; code: string | null }[]> {
    let q = this.db.selectFrom('telemetry').select(['event_id', 'kind', 'code']).where('device_id', '=', deviceId);
    if (kind !== undefined) q = q.where('kind', '=', kind);
    const rows = await q.orderBy('at').execute();
    return rows.map((r) => ({ id: r.event_id, kind: r.kind, code: r.code }));
  }
}
