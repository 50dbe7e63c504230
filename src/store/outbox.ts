// The notification outbox and notification log, in state.db.
//
// Guarantee: a notification is committed to disk (one autocommitted INSERT, not the batched
// StateStore flush) BEFORE any channel sees it, and leaves the outbox only in the same transaction
// that records its delivery in notification_log, after the channel acknowledged it. A crash at any
// point therefore either resends it (at-least-once) or finds it delivered — never loses it. The
// only duplicate window is a crash between the receiver's ack and that commit; notification ids
// are stable and travel with the message (email Message-ID, MQTT user property) so receivers can
// drop such a duplicate. Enqueueing an id already pending or delivered is a no-op (idempotent).
import type { Database } from "bun:sqlite";
import type { Channel as ChannelName, Notification } from "../model/alert.ts";
import { migrate } from "./db.ts";

const SCHEMA_STEPS = [
  `CREATE TABLE outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     channel TEXT NOT NULL,
     notification TEXT NOT NULL,
     enqueued_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     last_error TEXT,
     dead_at INTEGER,
     dead_reason TEXT);
   CREATE INDEX outbox_queue ON outbox (channel, dead_at, seq);
   CREATE TABLE notification_log (
     id TEXT PRIMARY KEY,
     channel TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     incident_id TEXT NOT NULL,
     status TEXT NOT NULL,
     level TEXT NOT NULL,
     title TEXT NOT NULL,
     alert_count INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     delivered_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL);
   CREATE INDEX notification_log_fingerprint ON notification_log (fingerprint, channel, delivered_at);
   CREATE INDEX notification_log_incident ON notification_log (incident_id, delivered_at);`,
];

export interface OutboxEntry {
  seq: number;
  id: string;
  channel: ChannelName;
  notification: Notification;
  enqueuedAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  deadAt?: number;
  deadReason?: string;
}

export interface NotificationLogEntry {
  id: string;
  channel: ChannelName;
  fingerprint: string;
  incidentId: string;
  status: string;
  level: string;
  title: string;
  alertCount: number;
  createdAt: number;
  deliveredAt: number;
  attempts: number;
}

interface OutboxRow {
  seq: number;
  id: string;
  channel: string;
  notification: string;
  enqueued_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  dead_at: number | null;
  dead_reason: string | null;
}

interface LogRow {
  id: string;
  channel: string;
  fingerprint: string;
  incident_id: string;
  status: string;
  level: string;
  title: string;
  alert_count: number;
  created_at: number;
  delivered_at: number;
  attempts: number;
}

const fromRow = (r: OutboxRow): OutboxEntry => ({
  seq: r.seq,
  id: r.id,
  channel: r.channel as ChannelName,
  notification: JSON.parse(r.notification) as Notification,
  enqueuedAt: r.enqueued_at,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  ...(r.last_error !== null ? { lastError: r.last_error } : {}),
  ...(r.dead_at !== null ? { deadAt: r.dead_at, deadReason: r.dead_reason ?? "" } : {}),
});

const fromLogRow = (r: LogRow): NotificationLogEntry => ({
  id: r.id,
  channel: r.channel as ChannelName,
  fingerprint: r.fingerprint,
  incidentId: r.incident_id,
  status: r.status,
  level: r.level,
  title: r.title,
  alertCount: r.alert_count,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
  attempts: r.attempts,
});

export class Outbox {
  /** `db` is the shared state.db handle (StateStore.db); the outbox creates its own tables. */
  constructor(
    readonly db: Database,
    /** Told about a row that cannot be read (it is dead-lettered, never fatal). */
    private readonly onBadRow?: (table: string, key: string, error: string) => void,
  ) {
    migrate(db, "outbox", SCHEMA_STEPS);
  }

  /**
   * Persists `n` now (committed when this returns). Returns false when the id is already pending or
   * was already delivered — so the pipeline may safely re-submit after a restart.
   */
  enqueue(n: Notification, now = Date.now()): boolean {
    if (this.db.query("SELECT 1 FROM notification_log WHERE id = ?").get(n.id)) return false;
    const res = this.db
      .query("INSERT INTO outbox (id, channel, notification, enqueued_at, next_attempt_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
      .run(n.id, n.channel, JSON.stringify(n), now, now);
    return res.changes > 0;
  }

  /** The oldest pending (not dead) notification of `channel`: channels deliver in order. */
  head(channel: ChannelName): OutboxEntry | undefined {
    for (;;) {
      const r = this.db.query("SELECT * FROM outbox WHERE channel = ? AND dead_at IS NULL ORDER BY seq LIMIT 1").get(channel) as OutboxRow | null;
      if (!r) return undefined;
      try {
        return fromRow(r);
      } catch (e) {
        // An unreadable row would block its channel forever: dead-letter it (kept, visible) and go on.
        const reason = `unreadable row in state.db: ${(e as Error).message}`;
        this.markDead(r.id, reason);
        this.onBadRow?.("outbox", r.id, reason);
      }
    }
  }

  /** Acknowledged: leaves the outbox and enters the notification log in one transaction. */
  markDelivered(id: string, now = Date.now()): void {
    this.db.transaction(() => {
      const r = this.db.query("SELECT * FROM outbox WHERE id = ?").get(id) as OutboxRow | null;
      if (!r) return;
      const n = JSON.parse(r.notification) as Notification;
      this.db
        .query(
          `INSERT INTO notification_log (id, channel, fingerprint, incident_id, status, level, title, alert_count, created_at, delivered_at, attempts)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
        )
        .run(
          id,
          n.channel,
          n.payload.fingerprint,
          n.payload.incidentId,
          n.payload.status,
          n.level,
          n.payload.title,
          n.payload.alertCount,
          n.createdAt,
          now,
          r.attempts + 1,
        );
      this.db.query("DELETE FROM outbox WHERE id = ?").run(id);
    })();
  }

  markRetry(id: string, nextAttemptAt: number, error: string): void {
    this.db.query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?").run(nextAttemptAt, error, id);
  }

  /** Every pending notification becomes due at `now` (the operator fixed a receiver: retry without waiting out the backoff). */
  retryAllNow(now = Date.now()): void {
    this.db.query("UPDATE outbox SET next_attempt_at = ? WHERE dead_at IS NULL").run(now);
  }

  /** Permanent failure: kept (visible, counted) with the reason; no longer retried. */
  markDead(id: string, reason: string, now = Date.now()): void {
    this.db
      .query("UPDATE outbox SET attempts = attempts + 1, dead_at = ?, dead_reason = ?, last_error = ? WHERE id = ?")
      .run(now, reason, reason, id);
  }

  /** Puts dead-lettered notifications back in the queue (after fixing the configuration). Returns how many. */
  requeueDead(channel?: ChannelName, now = Date.now()): number {
    const sql = `UPDATE outbox SET dead_at = NULL, dead_reason = NULL, next_attempt_at = ? WHERE dead_at IS NOT NULL${channel ? " AND channel = ?" : ""}`;
    return (channel ? this.db.query(sql).run(now, channel) : this.db.query(sql).run(now)).changes;
  }

  pending(channel?: ChannelName): OutboxEntry[] {
    const rows = (
      channel
        ? this.db.query("SELECT * FROM outbox WHERE dead_at IS NULL AND channel = ? ORDER BY seq").all(channel)
        : this.db.query("SELECT * FROM outbox WHERE dead_at IS NULL ORDER BY seq").all()
    ) as OutboxRow[];
    return rows.map(fromRow);
  }

  deadLetters(channel?: ChannelName): OutboxEntry[] {
    const rows = (
      channel
        ? this.db.query("SELECT * FROM outbox WHERE dead_at IS NOT NULL AND channel = ? ORDER BY seq").all(channel)
        : this.db.query("SELECT * FROM outbox WHERE dead_at IS NOT NULL ORDER BY seq").all()
    ) as OutboxRow[];
    return rows.map(fromRow);
  }

  /** Pending and dead counts per channel (for metrics and `status`). */
  counts(): Record<string, { pending: number; dead: number }> {
    const rows = this.db
      .query("SELECT channel, SUM(dead_at IS NULL) AS pending, SUM(dead_at IS NOT NULL) AS dead FROM outbox GROUP BY channel")
      .all() as {
      channel: string;
      pending: number;
      dead: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.channel, { pending: r.pending, dead: r.dead }]));
  }

  /** True when `id` is pending, dead-lettered or delivered: the pipeline's "already announced?" check. */
  known(id: string): boolean {
    return !!(this.db.query("SELECT 1 FROM outbox WHERE id = ?").get(id) ?? this.db.query("SELECT 1 FROM notification_log WHERE id = ?").get(id));
  }

  /** The last delivered notification for a fingerprint (optionally on one channel). */
  lastDelivered(fingerprint: string, channel?: ChannelName): NotificationLogEntry | undefined {
    const r = (
      channel
        ? this.db
            .query("SELECT * FROM notification_log WHERE fingerprint = ? AND channel = ? ORDER BY delivered_at DESC LIMIT 1")
            .get(fingerprint, channel)
        : this.db.query("SELECT * FROM notification_log WHERE fingerprint = ? ORDER BY delivered_at DESC LIMIT 1").get(fingerprint)
    ) as LogRow | null;
    return r ? fromLogRow(r) : undefined;
  }

  /** Delivery history, newest first (optionally of one incident). */
  log(opts: { incidentId?: string; limit?: number } = {}): NotificationLogEntry[] {
    const limit = opts.limit ?? 100;
    const rows = (
      opts.incidentId
        ? this.db
            .query("SELECT * FROM notification_log WHERE incident_id = ? ORDER BY delivered_at DESC, rowid DESC LIMIT ?")
            .all(opts.incidentId, limit)
        : this.db.query("SELECT * FROM notification_log ORDER BY delivered_at DESC, rowid DESC LIMIT ?").all(limit)
    ) as LogRow[];
    return rows.map(fromLogRow);
  }

  /** Drops log entries delivered before `before` (retention); returns how many. */
  pruneLog(before: number): number {
    return this.db.query("DELETE FROM notification_log WHERE delivered_at < ?").run(before).changes;
  }
}
