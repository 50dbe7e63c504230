import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backoffDelay } from "../../src/channels/dispatcher.ts";
import { STATE_FILE_NAME } from "../../src/store/db.ts";
import { Outbox } from "../../src/store/outbox.ts";
import { StateStore } from "../../src/store/state-store.ts";
import { alertGroup, notification } from "../support/alert-fixtures.ts";

let dir: string;
let store: StateStore;
let outbox: Outbox;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "neuro-outbox-"));
  store = StateStore.open(dir);
  outbox = new Outbox(store.db);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What another process (or the next start after a crash) sees on disk. */
const onDisk = (sql: string) => {
  const db = new Database(join(dir, STATE_FILE_NAME), { readonly: true });
  try {
    return db.query(sql).all();
  } finally {
    db.close();
  }
};

describe("Outbox", () => {
  test("enqueue is on disk immediately, without waiting for the StateStore flush", () => {
    store.setKv("unrelated", "queued"); // batched state stays queued...
    outbox.enqueue(notification("slack", "a"), 1000);
    expect(onDisk("SELECT id FROM outbox")).toEqual([{ id: "a" }]); // ...the notification does not
    expect(onDisk("SELECT key FROM kv")).toEqual([]);
  });

  test("ids are idempotent: pending or delivered ids are not enqueued again", () => {
    expect(outbox.enqueue(notification("slack", "a"))).toBe(true);
    expect(outbox.enqueue(notification("slack", "a"))).toBe(false);
    outbox.markDelivered("a", 2000);
    expect(outbox.enqueue(notification("slack", "a"))).toBe(false);
    expect(outbox.known("a")).toBe(true);
    expect(outbox.pending()).toEqual([]);
  });

  test("head is the oldest pending notification of the channel; channels are independent", () => {
    outbox.enqueue(notification("email", "e1"));
    outbox.enqueue(notification("slack", "s1"));
    outbox.enqueue(notification("email", "e2"));
    expect(outbox.head("email")!.id).toBe("e1");
    expect(outbox.head("slack")!.id).toBe("s1");
    expect(outbox.head("mqtt")).toBeUndefined();
  });

  test("delivery moves the row to the notification log in one step", () => {
    const g = alertGroup(3, { incidentId: "inc-7", fingerprint: "fp-7" });
    outbox.enqueue(notification("mqtt", "m1", g), 1000);
    outbox.markRetry("m1", 1500, "broker down");
    outbox.markDelivered("m1", 3000);
    expect(onDisk("SELECT count(*) AS n FROM outbox")).toEqual([{ n: 0 }]);
    const entry = outbox.lastDelivered("fp-7", "mqtt")!;
    expect(entry).toMatchObject({ id: "m1", channel: "mqtt", incidentId: "inc-7", status: "firing", alertCount: 3, deliveredAt: 3000, attempts: 2 });
    expect(outbox.log({ incidentId: "inc-7" }).map((e) => e.id)).toEqual(["m1"]);
    expect(outbox.pruneLog(3001)).toBe(1);
  });

  test("dead letters are kept with their reason, counted, skipped by head, and can be requeued", () => {
    outbox.enqueue(notification("slack", "bad"));
    outbox.enqueue(notification("slack", "good"));
    outbox.markDead("bad", "slack webhook answered HTTP 404 (no_service)", 5000);
    expect(outbox.head("slack")!.id).toBe("good");
    expect(outbox.deadLetters()).toMatchObject([{ id: "bad", deadReason: "slack webhook answered HTTP 404 (no_service)", deadAt: 5000 }]);
    expect(outbox.counts()).toEqual({ slack: { pending: 1, dead: 1 } });
    expect(outbox.requeueDead("slack")).toBe(1);
    expect(outbox.head("slack")!.id).toBe("bad");
  });

  test("reopening the database keeps pending rows (a restart resends them)", () => {
    outbox.enqueue(notification("email", "e1"));
    store.close({ discard: true });
    store = StateStore.open(dir);
    outbox = new Outbox(store.db);
    expect(outbox.pending().map((e) => e.id)).toEqual(["e1"]);
  });

  test("backoff doubles up to the maximum, with jitter in [half, full]", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(10, 100, 1000, () => 0)).toBe(500);
    expect(backoffDelay(500, 100, 1000, () => 0.5)).toBe(750);
  });
});
