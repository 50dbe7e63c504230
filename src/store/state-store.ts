// The controller's durable state: what cleaned_events.log already says per anomaly key (`logged`),
// informer resourceVersion bookmarks, and a small key/value table. Writes are queued in memory and
// applied in ONE transaction by flush() (every DIAGNOSIS_WRITE_INTERVAL and at shutdown) — one
// commit per interval instead of one per event spares SD cards. Reads see queued writes.
import type { Anomaly } from "../model/anomaly.ts";
import type { LoggedEntry, LogStatus } from "../diagnosis/reconcile.ts";
import { type Database, migrate, openStateDatabase, StateStoreError, type OpenOptions } from "./db.ts";

export { StateStoreError };

const SCHEMA_STEPS = [
  `CREATE TABLE logged (key TEXT PRIMARY KEY, anomaly TEXT NOT NULL, status TEXT NOT NULL, logged_at INTEGER NOT NULL);
   CREATE TABLE bookmarks (resource TEXT PRIMARY KEY, resource_version TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

export interface Bookmark {
  resourceVersion: string;
  updatedAt: number;
}

/** A queued mutation of another component's tables, applied inside the same flush transaction. */
export type QueuedWrite = (db: Database) => void;

interface LoggedRow {
  anomaly: string;
  status: string;
  logged_at: number;
}

const LOG_STATUSES: readonly string[] = ["firing", "resolved"];

// undefined in an overlay map means "no queued change"; null means "queued delete".
type Overlay<T> = Map<string, T | null>;

export class StateStore {
  private loggedQ: Overlay<LoggedEntry> = new Map();
  private bookmarkQ: Overlay<Bookmark> = new Map();
  private kvQ: Overlay<string> = new Map();
  private extraQ: QueuedWrite[] = [];
  private closed = false;
  private badRowsTotal = 0;
  private readonly badSeen = new Set<string>();
  /** Told about every row skipped because it cannot be read (for the log; counted in badRows). */
  onBadRow?: (table: string, key: string, error: string) => void;

  private constructor(
    /** The shared handle, for components that keep their own tables in state.db (use migrate()). */
    readonly db: Database,
    readonly path: string,
  ) {}

  static open(dir: string, opts: OpenOptions = {}): StateStore {
    const db = openStateDatabase(dir, opts);
    try {
      migrate(db, "state", SCHEMA_STEPS);
    } catch (e) {
      db.close();
      throw new StateStoreError(`cannot prepare the state database in ${dir}: ${(e as Error).message}`, dir, (e as { code?: string }).code);
    }
    return new StateStore(db, db.filename);
  }

  // --- logged: what cleaned_events.log says per anomaly key ---

  loadLogged(): Map<string, LoggedEntry> {
    const out = new Map<string, LoggedEntry>();
    const rows = this.db.query("SELECT key, anomaly, status, logged_at FROM logged").all() as (LoggedRow & { key: string })[];
    for (const r of rows) {
      const entry = this.fromRow(r.key, r);
      if (entry) out.set(r.key, entry);
    }
    for (const [key, v] of this.loggedQ) {
      if (v === null) out.delete(key);
      else out.set(key, v);
    }
    return out;
  }

  getLogged(key: string): LoggedEntry | undefined {
    const q = this.loggedQ.get(key);
    if (q !== undefined) return q ?? undefined;
    const r = this.db.query("SELECT anomaly, status, logged_at FROM logged WHERE key = ?").get(key) as LoggedRow | null;
    return r ? this.fromRow(key, r) : undefined;
  }

  /**
   * Parses one JSON column. A row that does not parse (a torn write, a hand edit, an older format)
   * is skipped, counted and reported — never fatal: one bad row must not stop the controller.
   */
  parseRow<T>(table: string, key: string, text: string): T | undefined {
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      this.badRow(table, key, (e as Error).message);
      return undefined;
    }
  }

  /** Rows skipped because they could not be read (monotonic), for neurocontroller_malformed_input_total{source="state-db"}. */
  get badRows(): number {
    return this.badRowsTotal;
  }

  badRow(table: string, key: string, error: string): void {
    // Once per row: a bad row read at every write cycle must not flood the journal or the counter.
    const id = `${table}\u0000${key}`;
    if (this.badSeen.has(id)) return;
    this.badSeen.add(id);
    this.badRowsTotal++;
    this.onBadRow?.(table, key, error);
  }

  private fromRow(key: string, r: LoggedRow): LoggedEntry | undefined {
    const anomaly = this.parseRow<Anomaly>("logged", key, r.anomaly);
    if (!anomaly) return undefined;
    if (typeof anomaly !== "object" || !LOG_STATUSES.includes(r.status)) {
      this.badRow("logged", key, `unexpected row (status ${JSON.stringify(r.status)})`);
      return undefined;
    }
    return { anomaly, status: r.status as LogStatus, loggedAt: r.logged_at };
  }

  /**
   * Commits at once, in one transaction of its own: `entries` into the logged set, then `write`.
   * For what must be durable before the caller goes on (a cleaned_events.log batch that was just
   * fsync'd). Throws StateStoreError; nothing is applied then.
   */
  commitLogged(entries: readonly [string, LoggedEntry][], write: QueuedWrite): void {
    const db = this.db;
    try {
      db.transaction(() => {
        const up = db.query(
          "INSERT INTO logged (key, anomaly, status, logged_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET anomaly = excluded.anomaly, status = excluded.status, logged_at = excluded.logged_at",
        );
        for (const [key, v] of entries) up.run(key, JSON.stringify(v.anomaly), v.status, v.loggedAt);
        write(db);
      })();
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new StateStoreError(`cannot write the state database ${this.path} (${code ?? (e as Error).message})`, this.path, code);
    }
    for (const [key] of entries) this.loggedQ.delete(key); // what was just committed is newer than anything queued
  }

  setLogged(key: string, entry: LoggedEntry): void {
    this.loggedQ.set(key, entry);
  }

  deleteLogged(key: string): void {
    this.loggedQ.set(key, null);
  }

  // --- bookmarks: last resourceVersion seen per watched resource ---

  getBookmark(resource: string): Bookmark | undefined {
    const q = this.bookmarkQ.get(resource);
    if (q !== undefined) return q ?? undefined;
    const r = this.db.query("SELECT resource_version, updated_at FROM bookmarks WHERE resource = ?").get(resource) as {
      resource_version: string;
      updated_at: number;
    } | null;
    return r ? { resourceVersion: r.resource_version, updatedAt: r.updated_at } : undefined;
  }

  setBookmark(resource: string, resourceVersion: string, now: number): void {
    this.bookmarkQ.set(resource, { resourceVersion, updatedAt: now });
  }

  deleteBookmark(resource: string): void {
    this.bookmarkQ.set(resource, null);
  }

  // --- kv: small miscellaneous values (strings; JSON-encode structured ones) ---

  getKv(key: string): string | undefined {
    const q = this.kvQ.get(key);
    if (q !== undefined) return q ?? undefined;
    const r = this.db.query("SELECT value FROM kv WHERE key = ?").get(key) as { value: string } | null;
    return r?.value;
  }

  setKv(key: string, value: string): void {
    this.kvQ.set(key, value);
  }

  deleteKv(key: string): void {
    this.kvQ.set(key, null);
  }

  /** Queues a write to another component's table so it commits in the same transaction. */
  enqueue(write: QueuedWrite): void {
    this.extraQ.push(write);
  }

  /** Queued mutations not yet on disk. */
  get pendingWrites(): number {
    return this.loggedQ.size + this.bookmarkQ.size + this.kvQ.size + this.extraQ.length;
  }

  /**
   * Applies every queued mutation in one transaction; returns how many. On failure nothing is
   * applied, the queue is kept for the next flush, and a StateStoreError naming the file is thrown.
   */
  flush(): number {
    const n = this.pendingWrites;
    if (n === 0) return 0;
    const db = this.db;
    try {
      db.transaction(() => {
        const upLogged = db.query(
          "INSERT INTO logged (key, anomaly, status, logged_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET anomaly = excluded.anomaly, status = excluded.status, logged_at = excluded.logged_at",
        );
        const delLogged = db.query("DELETE FROM logged WHERE key = ?");
        for (const [key, v] of this.loggedQ) {
          if (v === null) delLogged.run(key);
          else upLogged.run(key, JSON.stringify(v.anomaly), v.status, v.loggedAt);
        }
        const upBm = db.query(
          "INSERT INTO bookmarks (resource, resource_version, updated_at) VALUES (?, ?, ?) ON CONFLICT(resource) DO UPDATE SET resource_version = excluded.resource_version, updated_at = excluded.updated_at",
        );
        const delBm = db.query("DELETE FROM bookmarks WHERE resource = ?");
        for (const [res, v] of this.bookmarkQ) {
          if (v === null) delBm.run(res);
          else upBm.run(res, v.resourceVersion, v.updatedAt);
        }
        const upKv = db.query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
        const delKv = db.query("DELETE FROM kv WHERE key = ?");
        for (const [key, v] of this.kvQ) {
          if (v === null) delKv.run(key);
          else upKv.run(key, v);
        }
        for (const write of this.extraQ) write(db);
      })();
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new StateStoreError(
        `cannot write the state database ${this.path} (${code ?? (e as Error).message}); will retry at the next flush`,
        this.path,
        code,
      );
    }
    this.loggedQ = new Map();
    this.bookmarkQ = new Map();
    this.kvQ = new Map();
    this.extraQ = [];
    return n;
  }

  /** Flushes (unless `discard`, which simulates a crash in tests) and closes. Idempotent. */
  close(opts: { discard?: boolean } = {}): void {
    if (this.closed) return;
    try {
      if (!opts.discard) this.flush();
    } finally {
      this.closed = true;
      this.db.close();
    }
  }
}
