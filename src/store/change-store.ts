// The recorded changes in state.db (docs/changes.md): one row per ChangeRecord id, bounded by
// CHANGES_RETENTION (age) and CHANGES_MAX_ROWS (count), so a busy cluster cannot grow the file.
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { ChangeRecord } from "../model/change.ts";
import { migrate, STATE_FILE_NAME } from "./db.ts";

const SCHEMA_STEPS = [
  `CREATE TABLE changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     namespace TEXT NOT NULL,
     name TEXT NOT NULL,
     user TEXT,
     record TEXT NOT NULL);
   CREATE INDEX changes_time ON changes (time);
   CREATE INDEX changes_object ON changes (kind, namespace, name, time);`,
];

const recordSchema = z.object({
  id: z.string(),
  time: z.number(),
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  verb: z.string(),
  lines: z.array(z.string()),
  manager: z.string().optional(),
  operation: z.string().optional(),
  user: z.string().optional(),
});

export interface ChangeQuery {
  sinceMs?: number;
  untilMs?: number;
  namespace?: string;
  limit?: number;
}

export class ChangeStore {
  constructor(
    private readonly db: Database,
    private readonly maxRows = 20_000,
    private readonly onBadRow: (id: string, error: string) => void = () => {},
  ) {
    migrate(db, "changes", SCHEMA_STEPS);
  }

  /** Stores the change; false when its id is already there. Past maxRows the oldest rows go. */
  append(c: ChangeRecord): boolean {
    const r = this.db
      .query("INSERT OR IGNORE INTO changes (id, time, kind, namespace, name, user, record) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(c.id, c.time, c.kind, c.namespace, c.name, c.user ?? null, JSON.stringify(c));
    if (r.changes > 0 && Number(r.lastInsertRowid) % 100 === 0) this.trim();
    return r.changes > 0;
  }

  /** Oldest first. */
  list(q: ChangeQuery = {}): ChangeRecord[] {
    return listChanges(this.db, q, this.onBadRow);
  }

  /**
   * Names the user of the unattributed change to one object nearest to `atMs` within `windowMs` whose verb is one
   * of `verbs` (an audit event that arrived after the watch event). True when one was attributed.
   */
  attribute(kind: string, namespace: string, name: string, atMs: number, windowMs: number, verbs: readonly string[], user: string): boolean {
    const rows = this.db
      .query("SELECT id, time, record FROM changes WHERE kind = ? AND namespace = ? AND name = ? AND time BETWEEN ? AND ? AND user IS NULL")
      .all(kind, namespace, name, atMs - windowMs, atMs + windowMs) as { id: string; time: number; record: string }[];
    let best: { id: string; rec: ChangeRecord; gap: number } | undefined;
    for (const row of rows) {
      const rec = JSON.parse(row.record) as ChangeRecord;
      const gap = Math.abs(row.time - atMs);
      if (verbs.includes(rec.verb) && (!best || gap < best.gap)) best = { id: row.id, rec, gap };
    }
    if (!best) return false;
    this.db.query("UPDATE changes SET user = ?, record = ? WHERE id = ?").run(user, JSON.stringify({ ...best.rec, user }), best.id);
    return true;
  }

  count(): number {
    return (this.db.query("SELECT count(*) AS n FROM changes").get() as { n: number }).n;
  }

  /** Drops rows older than `beforeMs` and any beyond maxRows; returns how many. */
  prune(beforeMs: number): number {
    return this.db.query("DELETE FROM changes WHERE time < ?").run(beforeMs).changes + this.trim();
  }

  private trim(): number {
    return this.db.query("DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?").run(this.maxRows).changes;
  }
}

function listChanges(db: Database, q: ChangeQuery, onBadRow: (id: string, error: string) => void): ChangeRecord[] {
  const rows = db
    .query(
      `SELECT id, record FROM (SELECT seq, time, id, record FROM changes
         WHERE time >= ?1 AND time <= ?2 AND (?3 IS NULL OR namespace = ?3) ORDER BY time DESC, seq DESC LIMIT ?4) ORDER BY time, seq`,
    )
    .all(q.sinceMs ?? 0, q.untilMs ?? Number.MAX_SAFE_INTEGER, q.namespace ?? null, q.limit ?? 1000) as { id: string; record: string }[];
  const out: ChangeRecord[] = [];
  for (const row of rows) {
    try {
      out.push(recordSchema.parse(JSON.parse(row.record)));
    } catch (e) {
      onBadRow(row.id, (e as Error).message);
    }
  }
  return out;
}

/**
 * The changes in `<stateDir>/state.db`, read-only (never creates or migrates it): for `neurocontroller changes`
 * on the controller's host. Undefined when there is no database; [] when it has no changes table yet.
 */
export function readChanges(stateDir: string, q: ChangeQuery, onBadRow: (id: string, error: string) => void = () => {}): ChangeRecord[] | undefined {
  const file = join(stateDir, STATE_FILE_NAME);
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const has = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'").get();
    return has ? listChanges(db, q, onBadRow) : [];
  } finally {
    db.close();
  }
}
