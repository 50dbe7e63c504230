// cleaned_events.log's pending lines and cursor in state.db (see src/diagnosis/log-pending.ts).
// Every method commits at once in its own transaction — not through the StateStore's batched
// flush — because the writer appends to the file only after add() is durable and treats a line as
// logged only once complete() is: a line is never marked logged before its bytes are on disk, and
// one that was decided is never forgotten by a restart.
import type { LogCursor, LogQueue, PendingRow, QueuedLine } from "../diagnosis/log-pending.ts";
import { DEFAULT_PENDING_MAX } from "../diagnosis/log-pending.ts";
import type { LoggedEntry } from "../diagnosis/reconcile.ts";
import { migrate, StateStoreError } from "./db.ts";
import type { StateStore } from "./state-store.ts";

const SCHEMA_STEPS = [
  `CREATE TABLE log_pending (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, entry TEXT NOT NULL);
   CREATE TABLE log_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), ino INTEGER NOT NULL, size INTEGER NOT NULL);`,
];

interface Row {
  seq: number;
  key: string;
  entry: string;
}

export class StoreLogQueue implements LogQueue {
  private count: number;
  private droppedTotal = 0;

  constructor(
    private readonly store: StateStore,
    private readonly max = DEFAULT_PENDING_MAX,
  ) {
    migrate(store.db, "log-queue", SCHEMA_STEPS);
    this.count = (store.db.query("SELECT count(*) AS n FROM log_pending").get() as { n: number }).n;
  }

  add(lines: readonly QueuedLine[]): number {
    if (lines.length === 0) return 0;
    const db = this.store.db;
    let dropped = 0;
    this.commit("queue lines for cleaned_events.log", () => {
      const insert = db.query("INSERT INTO log_pending (key, entry) VALUES (?, ?)");
      for (const l of lines) insert.run(l.key, JSON.stringify(l.entry));
      const n = (db.query("SELECT count(*) AS n FROM log_pending").get() as { n: number }).n;
      dropped = Math.max(0, n - Math.max(1, this.max));
      // Oldest first: a still-active anomaly whose line was dropped is decided again by the next
      // reconcile (its key is not logged), so what is lost for good is only what came and went.
      if (dropped) db.query("DELETE FROM log_pending WHERE seq IN (SELECT seq FROM log_pending ORDER BY seq LIMIT ?)").run(dropped);
      this.count = n - dropped;
    });
    this.droppedTotal += dropped;
    return dropped;
  }

  peek(limit: number): PendingRow[] {
    const rows = this.store.db.query("SELECT seq, key, entry FROM log_pending ORDER BY seq LIMIT ?").all(limit) as Row[];
    const out: PendingRow[] = [];
    for (const r of rows) {
      const entry = this.parse(r);
      if (entry) out.push({ seq: r.seq, key: r.key, entry });
      else {
        // Unreadable: it can never be written; drop it rather than block every line behind it.
        this.store.db.query("DELETE FROM log_pending WHERE seq = ?").run(r.seq);
        this.count--;
      }
    }
    return out;
  }

  complete(rows: readonly PendingRow[], cursor: LogCursor): void {
    const db = this.store.db;
    this.store.commitLogged(
      rows.map((r) => [r.key, r.entry] as [string, LoggedEntry]),
      () => {
        const del = db.query("DELETE FROM log_pending WHERE seq = ?");
        for (const r of rows) del.run(r.seq);
        this.writeCursor(cursor);
      },
    );
    this.count -= rows.length;
  }

  setCursor(cursor: LogCursor): void {
    this.commit("record cleaned_events.log's length", () => this.writeCursor(cursor));
  }

  cursor(): LogCursor | undefined {
    const r = this.store.db.query("SELECT ino, size FROM log_cursor WHERE id = 1").get() as LogCursor | null;
    return r ?? undefined;
  }

  latestByKey(): Map<string, LoggedEntry> {
    const out = new Map<string, LoggedEntry>();
    const rows = this.store.db.query("SELECT seq, key, entry FROM log_pending ORDER BY seq").all() as Row[];
    for (const r of rows) {
      const entry = this.parse(r);
      if (entry) out.set(r.key, entry);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  private parse(r: Row): LoggedEntry | undefined {
    const entry = this.store.parseRow<LoggedEntry>("log_pending", r.key, r.entry);
    return entry && typeof entry === "object" && entry.anomaly && (entry.status === "firing" || entry.status === "resolved") ? entry : undefined;
  }

  private writeCursor(c: LogCursor): void {
    this.store.db
      .query("INSERT INTO log_cursor (id, ino, size) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET ino = excluded.ino, size = excluded.size")
      .run(c.ino, c.size);
  }

  private commit(what: string, fn: () => void): void {
    try {
      this.store.db.transaction(fn)();
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new StateStoreError(`cannot ${what} in ${this.store.path} (${code ?? (e as Error).message})`, this.store.path, code);
    }
  }
}
