// Opening the state database and versioned migrations. Shared by every table owner
// (state-store.ts here; the outbox, notification log and silences later) so they all live in one
// SQLite file with one set of pragmas tuned for SD cards.
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";

export { Database };

export const STATE_FILE_NAME = "state.db";

export class StateStoreError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "StateStoreError";
  }
}

export interface OpenOptions {
  /**
   * A corrupt file is moved aside to state.db.corrupt-<time> (with its -wal/-shm) and a fresh one
   * created: the state is lost, not the service. The controller opens with this on.
   */
  recoverCorrupt?: boolean;
  /** Told where a corrupt file was moved (the caller logs it loudly). */
  onRecovered?: (movedTo: string, reason: string) => void;
  busyTimeoutMs?: number;
}

function errCode(e: unknown): string | undefined {
  const x = e as { code?: unknown; errno?: unknown };
  return typeof x?.code === "string" ? x.code : undefined;
}

function applyPragmas(db: Database, busyTimeoutMs: number): void {
  // WAL: readers never block the writer and commits append instead of rewriting pages.
  // synchronous=NORMAL: in WAL mode a power cut can lose the last commits but not corrupt the file,
  // and it saves an fsync per commit — the right trade on SD cards.
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  // Forces SQLite to read the header now, so a corrupt file fails here with a clear message.
  db.query("SELECT count(*) FROM sqlite_master").get();
  // A damaged page elsewhere would otherwise surface later, in the middle of a write cycle.
  // quick_check reads every page once (milliseconds for this small file).
  const rows = db.query("PRAGMA quick_check").all() as { quick_check: string }[];
  const result = rows.map((r) => r.quick_check).join("; ");
  if (result !== "ok") throw Object.assign(new Error(`integrity check failed: ${result.slice(0, 300)}`), { code: "SQLITE_CORRUPT" });
}

/** Moves a corrupt state.db and its WAL files aside; returns the new name. */
function moveAside(path: string): string {
  const to = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(path, to);
  for (const suffix of ["-wal", "-shm"]) if (existsSync(path + suffix)) renameSync(path + suffix, to + suffix);
  return to;
}

/** Opens (creating if needed) `<dir>/state.db`. Errors name the path and say what to do. */
export function openStateDatabase(dir: string, opts: OpenOptions = {}): Database {
  const path = join(dir, STATE_FILE_NAME);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = errCode(e);
    throw new StateStoreError(
      `cannot create the state directory ${dir} (${code ?? e}): set NEURO_STATE_DIR to a directory the controller's user can write`,
      path,
      code,
    );
  }
  const busy = opts.busyTimeoutMs ?? 5000;
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true });
    applyPragmas(db, busy);
    return db;
  } catch (e) {
    db?.close();
    const code = errCode(e);
    const corrupt = code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT";
    if (corrupt && opts.recoverCorrupt) {
      const movedTo = moveAside(path);
      opts.onRecovered?.(movedTo, (e as Error).message);
      const fresh = new Database(path, { create: true });
      applyPragmas(fresh, busy);
      return fresh;
    }
    const hint = corrupt
      ? `the file is damaged or not a SQLite database: move it aside (mv ${path} ${path}.corrupt; the controller then starts with empty state)`
      : `check that ${dir} is writable by the controller's user (NEURO_STATE_DIR)`;
    throw new StateStoreError(`cannot open the state database ${path} (${code ?? (e as Error).message}): ${hint}`, path, code);
  }
}

/**
 * Applies the not-yet-applied steps of one component's schema. `statements[i]` is version i+1;
 * append new steps, never edit old ones. Each step runs in its own transaction with its version bump.
 */
export function migrate(db: Database, name: string, statements: readonly string[]): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  const row = db.query("SELECT version FROM schema_migrations WHERE name = ?").get(name) as { version: number } | null;
  const from = row?.version ?? 0;
  for (let v = from; v < statements.length; v++) {
    db.transaction(() => {
      db.exec(statements[v]!);
      db.query("INSERT INTO schema_migrations (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version").run(
        name,
        v + 1,
      );
    })();
  }
  return statements.length;
}
