// The action history in state.db: one row per ActionRecord id, written (autocommit, before anyone is
// told) so a decision survives restarts, is listed by `heal history` / `slo status` / `audit`, and is
// recognised when replayed after a leader change. Bounded: rows older than the retention are pruned.
import type { Database } from "bun:sqlite";
import { z } from "zod";
import type { ActionRecord } from "../model/action.ts";
import { migrate } from "./db.ts";

const SCHEMA_STEPS = [
  `CREATE TABLE action_history (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time INTEGER NOT NULL,
     source TEXT NOT NULL,
     record TEXT NOT NULL);
   CREATE INDEX action_history_time ON action_history (time);`,
];

const recordSchema = z.object({
  id: z.string(),
  time: z.string(),
  source: z.enum(["healing", "slo", "operator"]),
  mode: z.enum(["dry-run", "on"]),
  target: z.object({ kind: z.string(), namespace: z.string(), name: z.string() }),
  step: z.string(),
  outcome: z.enum(["planned", "done", "waiting", "refused", "failed"]),
  reason: z.string(),
  summary: z.string(),
  actor: z.string().optional(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  announce: z.boolean().optional(),
});

export interface HistoryQuery {
  sinceMs?: number;
  source?: ActionRecord["source"];
  limit?: number;
}

export class ActionHistory {
  constructor(
    private readonly db: Database,
    /** Told about a stored row that no longer parses (counted by the caller, never fatal). */
    private readonly onBadRow: (id: string, error: string) => void = () => {},
  ) {
    migrate(db, "action-history", SCHEMA_STEPS);
  }

  /** Stores the record; false when its id is already there (the same decision replayed). */
  append(record: ActionRecord): boolean {
    const time = Date.parse(record.time);
    const r = this.db
      .query("INSERT OR IGNORE INTO action_history (id, time, source, record) VALUES (?, ?, ?, ?)")
      .run(record.id, Number.isFinite(time) ? time : Date.now(), record.source, JSON.stringify(record));
    return r.changes > 0;
  }

  has(id: string): boolean {
    return this.db.query("SELECT 1 FROM action_history WHERE id = ?").get(id) !== null;
  }

  /** Oldest first. */
  list(q: HistoryQuery = {}): ActionRecord[] {
    const rows = this.db
      .query(
        `SELECT id, record FROM (SELECT seq, id, record FROM action_history
           WHERE time >= ?1 AND (?2 IS NULL OR source = ?2) ORDER BY seq DESC LIMIT ?3) ORDER BY seq`,
      )
      .all(q.sinceMs ?? 0, q.source ?? null, q.limit ?? 1000) as { id: string; record: string }[];
    const out: ActionRecord[] = [];
    for (const row of rows) {
      try {
        out.push(recordSchema.parse(JSON.parse(row.record)) as ActionRecord);
      } catch (e) {
        this.onBadRow(row.id, (e as Error).message);
      }
    }
    return out;
  }

  /** Drops rows older than `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.db.query("DELETE FROM action_history WHERE time < ?").run(beforeMs).changes;
  }
}
