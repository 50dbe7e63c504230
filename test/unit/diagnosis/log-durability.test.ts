// cleaned_events.log durability with real files and a real state.db: lines are logged only once
// fsync'd and committed, whatever was appended after the last commit is cut (in process and at
// start-up), pending lines survive a restart and are written exactly once.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLogQueue, type LogCursor, type PendingRow } from "../../../src/diagnosis/log-pending.ts";
import { LOG_FILE_NAME, LogWriter } from "../../../src/diagnosis/log-writer.ts";
import type { LogLine } from "../../../src/diagnosis/reconcile.ts";
import { StoreLogQueue } from "../../../src/store/log-queue.ts";
import { StateStore } from "../../../src/store/state-store.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { anomaly, T0 } from "./fixtures.ts";

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), "neuro-durable-"))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const line = (name: string, status: "firing" | "resolved" = "firing"): LogLine => {
  const a = anomaly({ name });
  return { key: anomalyKey(a), anomaly: a, status };
};
const names = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => `${JSON.parse(l).name}:${JSON.parse(l).status}`)
    : [];

/** A controller's writer over `<tmp>/state` (a fresh StateStore each call: a restart). */
function open(logDir: string) {
  const store = StateStore.open(join(tmp, "state"));
  const queue = new StoreLogQueue(store, 5);
  const writer = new LogWriter({ dir: logDir, maxBytes: 1 << 20, maxFiles: 2, queue });
  return { store, queue, writer, file: join(logDir, LOG_FILE_NAME) };
}

describe("pending lines in state.db", () => {
  test("unwritable directory: nothing marked logged; after a restart with it writable each line is written exactly once", () => {
    const blocker = join(tmp, "blocker");
    writeFileSync(blocker, "x");
    const logDir = join(blocker, "log");
    const a = open(logDir);
    const r1 = a.writer.append([line("p1"), line("p2")], T0);
    expect([r1.written, r1.pending, r1.error?.code]).toEqual([0, 2, "ENOTDIR"]);
    expect(a.writer.failing?.error.code).toBe("ENOTDIR");
    expect(a.store.loadLogged().size).toBe(0); // not logged: not on disk
    expect([...a.queue.latestByKey().keys()]).toEqual([line("p1").key, line("p2").key]);
    a.store.close();

    rmSync(blocker);
    const b = open(logDir);
    expect(b.queue.size).toBe(2);
    const r2 = b.writer.flush(T0 + 6000);
    expect([r2.written, r2.pending, r2.error]).toEqual([2, 0, undefined]);
    expect(b.writer.failing).toBeUndefined();
    expect([...b.store.loadLogged().keys()].sort()).toEqual([line("p1").key, line("p2").key].sort());
    expect(b.writer.flush(T0 + 12_000).written).toBe(0);
    b.store.close();
    const c = open(logDir); // and a further restart writes nothing again
    expect(c.writer.flush(T0 + 18_000).written).toBe(0);
    expect(names(c.file)).toEqual(["p1:firing", "p2:firing"]);
    c.store.close();
  });

  test("bounded: the oldest are dropped and counted", () => {
    writeFileSync(join(tmp, "blocker"), "x");
    const a = open(join(tmp, "blocker", "log"));
    a.writer.enqueue(
      ["a", "b", "c", "d", "e", "f", "g"].map((n) => line(n)),
      T0,
    );
    expect([a.queue.size, a.queue.dropped]).toEqual([5, 2]);
    expect(a.queue.peek(10).map((r) => r.entry.anomaly.name)).toEqual(["c", "d", "e", "f", "g"]);
    a.store.close();
  });

  test("an unreadable pending row is skipped and counted, the lines behind it are written", () => {
    const a = open(join(tmp, "log"));
    a.writer.enqueue([line("p1"), line("p2")], T0);
    a.store.db.query("UPDATE log_pending SET entry = '{torn' WHERE key = ?").run(line("p1").key);
    const r = a.writer.flush(T0);
    expect([r.written, r.pending]).toEqual([1, 0]);
    expect(a.store.badRows).toBe(1);
    expect(names(a.file)).toEqual(["p2:firing"]);
    a.store.close();
  });
});

describe("bytes past the last commit are cut", () => {
  test("a commit that fails after the append: the file is cut back, the lines stay pending and are written once later", () => {
    const q = new MemoryLogQueue();
    let failNext = false;
    const complete = q.complete.bind(q);
    q.complete = (rows: readonly PendingRow[], cursor: LogCursor) => {
      if (failNext) {
        failNext = false;
        throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
      }
      complete(rows, cursor);
    };
    const w = new LogWriter({ dir: tmp, maxBytes: 1 << 20, maxFiles: 2, queue: q });
    w.append([line("p0")], T0);
    failNext = true;
    const r1 = w.append([line("p1"), line("p2")], T0);
    expect([r1.written, r1.pending, r1.error?.message]).toEqual([0, 2, "database is locked"]);
    expect(names(join(tmp, LOG_FILE_NAME))).toEqual(["p0:firing"]); // p1, p2 cut back out
    const r2 = w.flush(T0 + 6000);
    expect(r2.written).toBe(2);
    expect(names(join(tmp, LOG_FILE_NAME))).toEqual(["p0:firing", "p1:firing", "p2:firing"]);
  });

  test("a crash between append and commit: the restarted writer cuts the uncommitted tail and writes those lines once", () => {
    const logDir = join(tmp, "log");
    const a = open(logDir);
    a.writer.append([line("p1")], T0);
    a.writer.enqueue([line("p2")], T0);
    // What the crashed process got onto disk before its commit: p2 whole, then half of p3.
    appendFileSync(a.file, `${JSON.stringify({ name: "p2", status: "firing" })}\n{"name":"p3","sta`);
    a.store.close();
    const b = open(logDir);
    b.writer.repair();
    expect(names(b.file)).toEqual(["p1:firing"]);
    expect(b.writer.flush(T0 + 6000).written).toBe(1);
    expect(names(b.file)).toEqual(["p1:firing", "p2:firing"]);
    b.store.close();
  });

  test("a file the cursor does not know (first run, restored, rotated by logrotate) keeps its whole lines, minus a torn last one", () => {
    const file = join(tmp, LOG_FILE_NAME);
    writeFileSync(file, `${JSON.stringify({ name: "old", status: "firing" })}\n{"name":"torn`);
    const w = new LogWriter({ dir: tmp, maxBytes: 1 << 20, maxFiles: 2 });
    w.repair();
    expect(names(file)).toEqual(["old:firing"]);
    w.append([line("p1")], T0);
    expect(names(file)).toEqual(["old:firing", "p1:firing"]);
  });

  test("a file that appears under the writer mid-run (replaced from outside) is repaired on the next append, not only at start-up", () => {
    const file = join(tmp, LOG_FILE_NAME);
    const w = new LogWriter({ dir: tmp, maxBytes: 1 << 20, maxFiles: 2 });
    w.append([line("p1")], T0);
    rmSync(file);
    writeFileSync(file, `${JSON.stringify({ name: "restored", status: "firing" })}\n{"name":"torn`); // a new inode the cursor does not know
    const r = w.append([line("p2")], T0 + 6000);
    expect(r.error).toBeUndefined();
    expect(names(file)).toEqual(["restored:firing", "p2:firing"]);
  });

  test("a file with no newline at all is emptied", () => {
    const file = join(tmp, LOG_FILE_NAME);
    writeFileSync(file, "x".repeat(100_000)); // longer than one read block
    new LogWriter({ dir: tmp, maxBytes: 1 << 20, maxFiles: 2 }).repair();
    expect(readFileSync(file, "utf8")).toBe("");
  });
});
