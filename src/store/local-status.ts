// What `neurocontroller status` reads from the controller's own state.db: open incidents (last delivered
// notification "firing") and the outbox per channel. Read-only: never creates or migrates the database.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { STATE_FILE_NAME } from "./db.ts";

export interface LocalStatus {
  /** Incidents whose last delivered notification was "firing". */
  open: { incidentId: string; title: string; level: string; alertCount: number; deliveredAt: number; trigger?: string }[];
  outbox: Record<string, { pending: number; dead: number }>;
}

/** Reads state.db read-only (never creates or migrates it); undefined when absent or without the tables. */
export function localStatus(stateDir: string): LocalStatus | undefined {
  const file = join(stateDir, STATE_FILE_NAME);
  if (!existsSync(file)) return undefined;
  let db: Database | undefined;
  try {
    db = new Database(file, { readonly: true });
    const open = db
      .query(
        `SELECT incident_id AS incidentId, title, level, alert_count AS alertCount, delivered_at AS deliveredAt, status FROM notification_log l
         WHERE delivered_at = (SELECT MAX(delivered_at) FROM notification_log WHERE incident_id = l.incident_id) GROUP BY incident_id`,
      )
      .all() as (LocalStatus["open"][number] & { status: string })[];
    const counts = db
      .query("SELECT channel, SUM(dead_at IS NULL) AS pending, SUM(dead_at IS NOT NULL) AS dead FROM outbox GROUP BY channel")
      .all() as {
      channel: string;
      pending: number;
      dead: number;
    }[];
    const triggers = incidentTriggers(db);
    return {
      open: open
        .filter((r) => r.status === "firing")
        .map(({ status: _s, ...r }) => (triggers.has(r.incidentId) ? { ...r, trigger: triggers.get(r.incidentId) } : r)),
      outbox: Object.fromEntries(counts.map((c) => [c.channel, { pending: c.pending, dead: c.dead }])),
    };
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Likely-trigger summaries of the open incidents, from the alerting snapshot (docs/changes.md). */
function incidentTriggers(db: Database): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const row = db.query("SELECT value FROM kv WHERE key = 'alerting'").get() as { value: string } | null;
    const incidents = row
      ? (JSON.parse(row.value) as { incidents?: { incidents?: Record<string, { trigger?: { summary?: unknown } }> } }).incidents?.incidents
      : undefined;
    for (const [id, inc] of Object.entries(incidents ?? {})) if (typeof inc?.trigger?.summary === "string") out.set(id, inc.trigger.summary);
  } catch {
    // an unreadable snapshot only means no trigger lines
  }
  return out;
}
