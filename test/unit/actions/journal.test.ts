import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { ActionJournal } from "../../../src/actions/journal.ts";
import { createLogger } from "../../../src/log.ts";
import type { ActionRecord } from "../../../src/model/action.ts";
import { ActionHistory } from "../../../src/store/action-history.ts";

const record = (id: string, time = "2026-12-04T10:00:00Z"): ActionRecord => ({
  id,
  time,
  source: "healing",
  mode: "dry-run",
  target: { kind: "Node", namespace: "", name: "pi-3" },
  step: "cordon",
  outcome: "planned",
  reason: "NotReady for 6m (HEALING_NODE_NOTREADY_AFTER 5m)",
  summary: "Would cordon node pi-3",
});

describe("action journal", () => {
  test("a decision is stored, logged and told to listeners once, even when replayed", () => {
    const db = new Database(":memory:");
    const lines: string[] = [];
    const journal = new ActionJournal(new ActionHistory(db), createLogger({ level: "info", write: (l) => lines.push(l) }));
    const told: string[] = [];
    journal.listen((r) => void told.push(r.id));
    expect(journal.record(record("a"))).toBe(true);
    expect(journal.record(record("a"))).toBe(false);
    expect(told).toEqual(["a"]);
    expect(lines.filter((l) => l.includes("Would cordon node pi-3"))).toHaveLength(1);
    // a second journal over the same database (a restart) recognises the replay
    const again = new ActionJournal(new ActionHistory(db), createLogger({ level: "error", write: () => {} }));
    expect(again.record(record("a"))).toBe(false);
    expect(again.store.list().map((r) => r.id)).toEqual(["a"]);
  });

  test("a throwing listener does not stop the others; history lists by time and prunes", () => {
    const db = new Database(":memory:");
    const journal = new ActionJournal(new ActionHistory(db), createLogger({ level: "error", write: () => {} }));
    const told: string[] = [];
    journal.listen(() => {
      throw new Error("boom");
    });
    journal.listen((r) => void told.push(r.id));
    journal.record(record("old", "2026-12-01T00:00:00Z"));
    journal.record(record("new", "2026-12-04T00:00:00Z"));
    expect(told).toEqual(["old", "new"]);
    expect(journal.store.list({ sinceMs: Date.parse("2026-12-02T00:00:00Z") }).map((r) => r.id)).toEqual(["new"]);
    expect(journal.store.prune(Date.parse("2026-12-02T00:00:00Z"))).toBe(1);
    expect(journal.store.list().map((r) => r.id)).toEqual(["new"]);
  });

  test("a stored row that no longer parses is reported, not thrown", () => {
    const db = new Database(":memory:");
    const bad: string[] = [];
    const history = new ActionHistory(db, (id) => bad.push(id));
    history.append(record("ok"));
    db.query("INSERT INTO action_history (id, time, source, record) VALUES ('x', 0, 'healing', '{\"id\":1}')").run();
    expect(history.list().map((r) => r.id)).toEqual(["ok"]);
    expect(bad).toEqual(["x"]);
  });
});
