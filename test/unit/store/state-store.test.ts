import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoggedEntry } from "../../../src/diagnosis/reconcile.ts";
import { migrate, openStateDatabase, STATE_FILE_NAME, StateStoreError } from "../../../src/store/db.ts";
import { Outbox } from "../../../src/store/outbox.ts";
import { StateStore } from "../../../src/store/state-store.ts";
import { notification } from "../../support/alert-fixtures.ts";
import { anomaly, T0 } from "../diagnosis/fixtures.ts";

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), "neuro-state-"))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const entry = (status: "firing" | "resolved" = "firing", at = T0): LoggedEntry => ({ anomaly: anomaly(), status, loggedAt: at });
const KEY = "Pod/default/web-1/NotReady";

/** What another process would see on disk right now. */
function onDisk(dir: string, sql: string): unknown[] {
  const db = new Database(join(dir, STATE_FILE_NAME), { readonly: true });
  try {
    return db.query(sql).all();
  } finally {
    db.close();
  }
}

describe("StateStore", () => {
  test("creates <dir>/state.db with WAL and the schema", () => {
    const s = StateStore.open(join(tmp, "nested", "state"));
    expect(s.path).toBe(join(tmp, "nested", "state", STATE_FILE_NAME));
    expect((s.db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    expect((s.db.query("PRAGMA synchronous").get() as { synchronous: number }).synchronous).toBe(1); // NORMAL
    expect(s.db.query("SELECT version FROM schema_migrations WHERE name = 'state'").get()).toEqual({ version: 1 });
    s.close();
  });

  test("writes are batched: nothing on disk before flush, reads see queued writes", () => {
    const s = StateStore.open(tmp);
    s.setLogged(KEY, entry());
    s.setBookmark("pods", "1234", T0);
    s.setKv("leader", "pi-1");
    expect(s.pendingWrites).toBe(3);
    expect(onDisk(tmp, "SELECT * FROM logged")).toEqual([]);
    expect(onDisk(tmp, "SELECT * FROM bookmarks")).toEqual([]);
    expect(s.loadLogged().get(KEY)).toEqual(entry());
    expect(s.getLogged(KEY)).toEqual(entry());
    expect(s.getBookmark("pods")).toEqual({ resourceVersion: "1234", updatedAt: T0 });
    expect(s.getKv("leader")).toBe("pi-1");

    expect(s.flush()).toBe(3);
    expect(s.pendingWrites).toBe(0);
    expect(onDisk(tmp, "SELECT key, status, logged_at FROM logged")).toEqual([{ key: KEY, status: "firing", logged_at: T0 }]);
    expect(s.flush()).toBe(0);

    s.deleteLogged(KEY);
    expect(s.loadLogged().size).toBe(0); // queued delete hides the row
    expect(s.getLogged(KEY)).toBeUndefined();
    expect(onDisk(tmp, "SELECT count(*) AS n FROM logged")).toEqual([{ n: 1 }]);
    s.flush();
    expect(onDisk(tmp, "SELECT count(*) AS n FROM logged")).toEqual([{ n: 0 }]);
    s.close();
  });

  test("the last queued write per key wins", () => {
    const s = StateStore.open(tmp);
    s.setLogged(KEY, entry("firing", T0));
    s.setLogged(KEY, entry("resolved", T0 + 1));
    expect(s.pendingWrites).toBe(1);
    s.flush();
    expect(s.loadLogged().get(KEY)).toEqual(entry("resolved", T0 + 1));
    s.close();
  });

  test("persists across close and reopen", () => {
    const s1 = StateStore.open(tmp);
    s1.setLogged(KEY, entry());
    s1.setBookmark("pods", "42", T0);
    s1.setKv("k", "v");
    s1.close(); // close flushes
    const s2 = StateStore.open(tmp);
    expect(s2.loadLogged()).toEqual(new Map([[KEY, entry()]]));
    expect(s2.getLogged(KEY)).toEqual(entry());
    expect(s2.getBookmark("pods")).toEqual({ resourceVersion: "42", updatedAt: T0 });
    expect(s2.getKv("k")).toBe("v");
    expect(s2.getBookmark("nodes")).toBeUndefined();
    s2.deleteBookmark("pods");
    s2.deleteKv("k");
    s2.close();
    const s3 = StateStore.open(tmp);
    expect([s3.getBookmark("pods"), s3.getKv("k")]).toEqual([undefined, undefined]);
    s3.close();
  });

  test("a crash before flush loses only the unflushed batch", () => {
    const s1 = StateStore.open(tmp);
    s1.setKv("flushed", "1");
    s1.flush();
    s1.setKv("unflushed", "1");
    s1.close({ discard: true });
    const s2 = StateStore.open(tmp);
    expect([s2.getKv("flushed"), s2.getKv("unflushed")]).toEqual(["1", undefined]);
    s2.close();
  });

  test("other components queue writes to their own tables into the same transaction", () => {
    const s = StateStore.open(tmp);
    migrate(s.db, "outbox", ["CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"]);
    s.enqueue((db) => db.query("INSERT INTO outbox (body) VALUES (?)").run("hello"));
    s.setKv("k", "v");
    expect(onDisk(tmp, "SELECT count(*) AS n FROM outbox")).toEqual([{ n: 0 }]);
    expect(s.flush()).toBe(2);
    expect(onDisk(tmp, "SELECT body FROM outbox")).toEqual([{ body: "hello" }]);
    s.close();
  });

  test("a failing flush applies nothing, keeps the queue and names the file", () => {
    const s = StateStore.open(tmp);
    s.setKv("k", "v");
    s.enqueue((db) => db.exec("INSERT INTO no_such_table VALUES (1)"));
    expect(() => s.flush()).toThrow(StateStoreError);
    expect(() => s.flush()).toThrow(join(tmp, STATE_FILE_NAME));
    expect(onDisk(tmp, "SELECT count(*) AS n FROM kv")).toEqual([{ n: 0 }]);
    expect(s.pendingWrites).toBe(2);
    s.close({ discard: true });
  });
});

describe("migrate", () => {
  test("applies only new steps, once", () => {
    const db = openStateDatabase(tmp);
    expect(migrate(db, "silences", ["CREATE TABLE silences (id TEXT PRIMARY KEY)"])).toBe(1);
    expect(migrate(db, "silences", ["CREATE TABLE silences (id TEXT PRIMARY KEY)"])).toBe(1); // no "already exists"
    migrate(db, "silences", ["CREATE TABLE silences (id TEXT PRIMARY KEY)", "ALTER TABLE silences ADD COLUMN until_ms INTEGER"]);
    expect(db.query("SELECT name FROM pragma_table_info('silences')").all()).toEqual([{ name: "id" }, { name: "until_ms" }]);
    expect(db.query("SELECT version FROM schema_migrations WHERE name = 'silences'").get()).toEqual({ version: 2 });
    db.close();
  });
});

describe("errors name the path", () => {
  test("state directory under a regular file (ENOTDIR)", () => {
    writeFileSync(join(tmp, "afile"), "x");
    const dir = join(tmp, "afile", "state");
    let err: unknown;
    try {
      StateStore.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateStoreError);
    expect((err as StateStoreError).message).toContain(dir);
    expect((err as StateStoreError).message).toContain("NEURO_STATE_DIR");
    expect((err as StateStoreError).code).toBe("ENOTDIR");
  });

  test("corrupt database file", () => {
    const path = join(tmp, STATE_FILE_NAME);
    writeFileSync(path, "this is not a sqlite database, just some bytes ".repeat(100));
    expect(() => StateStore.open(tmp)).toThrow(path);
    expect(() => StateStore.open(tmp)).toThrow(/damaged or not a SQLite database/);
  });

  test("corrupt database file with recoverCorrupt: moved aside (named with the time), fresh state, caller told where", () => {
    const path = join(tmp, STATE_FILE_NAME);
    writeFileSync(path, "garbage ".repeat(100));
    const told: string[] = [];
    const s = StateStore.open(tmp, { recoverCorrupt: true, onRecovered: (to) => told.push(to) });
    const aside = readdirSync(tmp).filter((f) => f.startsWith(`${STATE_FILE_NAME}.corrupt-`));
    expect(aside.length).toBe(1);
    expect(told).toEqual([join(tmp, aside[0]!)]);
    expect(readFileSync(join(tmp, aside[0]!), "utf8")).toBe("garbage ".repeat(100)); // kept for a post-mortem
    expect(s.loadLogged().size).toBe(0);
    s.setLogged(KEY, entry());
    s.close();
    expect(StateStore.open(tmp).loadLogged().size).toBe(1); // the fresh file works
  });

  test("damaged pages behind a valid header are found at open (integrity check), not in a later write cycle", () => {
    const s = StateStore.open(tmp);
    for (let i = 0; i < 300; i++) s.setLogged(`k${i}`, entry());
    s.close();
    const db = new Database(join(tmp, STATE_FILE_NAME));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE");
    db.close();
    const path = join(tmp, STATE_FILE_NAME);
    const bytes = readFileSync(path);
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = 0x55; // every page but the header's
    writeFileSync(path, bytes);
    expect(() => StateStore.open(tmp)).toThrow(/damaged or not a SQLite database/);
    const recovered = StateStore.open(tmp, { recoverCorrupt: true });
    expect(recovered.loadLogged().size).toBe(0);
    recovered.close();
  });
});

describe("unreadable rows", () => {
  test("a logged row whose JSON does not parse is skipped and counted, the others load", () => {
    const s = StateStore.open(tmp);
    s.setLogged(KEY, entry());
    s.setLogged("other", entry("resolved"));
    s.flush();
    s.db.query("UPDATE logged SET anomaly = ? WHERE key = ?").run("{not json", KEY);
    const bad: string[] = [];
    s.onBadRow = (table, key) => bad.push(`${table}:${key}`);
    const loaded = s.loadLogged();
    expect([...loaded.keys()]).toEqual(["other"]);
    expect(s.getLogged(KEY)).toBeUndefined();
    expect(bad).toEqual([`logged:${KEY}`]); // once per row, however often it is read
    expect(s.badRows).toBe(1);
    s.close();
  });

  test("an outbox row that does not parse is dead-lettered and counted; the channel's next notification is its head", () => {
    const s = StateStore.open(tmp);
    const outbox = new Outbox(s.db, (table, key, error) => s.badRow(table, key, error));
    outbox.enqueue(notification("slack", "torn"), 1000);
    outbox.enqueue(notification("slack", "next"), 1000);
    s.db.query("UPDATE outbox SET notification = '{torn' WHERE id = 'torn'").run();
    expect(outbox.head("slack")?.id).toBe("next");
    expect(s.badRows).toBe(1);
    expect((s.db.query("SELECT dead_reason FROM outbox WHERE id = 'torn'").get() as { dead_reason: string }).dead_reason).toContain("unreadable row");
    s.close();
  });

  test("a row with an unknown status is skipped too", () => {
    const s = StateStore.open(tmp);
    s.setLogged(KEY, entry());
    s.flush();
    s.db.query("UPDATE logged SET status = 'exploded' WHERE key = ?").run(KEY);
    expect(s.loadLogged().size).toBe(0);
    expect(s.badRows).toBe(1);
    s.close();
  });
});
