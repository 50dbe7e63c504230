import { describe, expect, test } from "bun:test";
import { reconcile, type LoggedEntry } from "../../../src/diagnosis/reconcile.ts";
import { anomalyKey, type Anomaly } from "../../../src/model/anomaly.ts";
import { anomaly, T0 } from "./fixtures.ts";

const RETENTION = 5 * 60_000;
const desiredOf = (...as: Anomaly[]) => new Map(as.map((a) => [anomalyKey(a), a]));
const lines = (r: ReturnType<typeof reconcile>) => r.lines.map((l) => `${l.status}:${l.key}`);

describe("reconcile", () => {
  const notReady = anomaly();
  const backoff = anomaly({ reason: "BackOff", category: "Event" });

  test("new active keys are logged as firing once", () => {
    const r1 = reconcile(desiredOf(notReady), new Map(), T0, RETENTION);
    expect(lines(r1)).toEqual(["firing:Pod/default/web-1/NotReady"]);
    expect(r1.changed).toEqual([["Pod/default/web-1/NotReady", { anomaly: notReady, status: "firing", loggedAt: T0 }]]);
    const r2 = reconcile(desiredOf(notReady), r1.logged, T0 + 6000, RETENTION);
    expect(r2.lines).toEqual([]);
    expect(r2.changed).toEqual([]);
    expect(r2.logged).toEqual(r1.logged);
  });

  test("keys no longer active get one resolved line repeating the logged anomaly", () => {
    const r1 = reconcile(desiredOf(notReady), new Map(), T0, RETENTION);
    const r2 = reconcile(desiredOf(anomaly({ message: "changed" })), r1.logged, T0 + 1, RETENTION);
    expect(r2.lines).toEqual([]); // a changed message is not a new anomaly
    const r3 = reconcile(new Map(), r1.logged, T0 + 2, RETENTION);
    expect(r3.lines).toEqual([{ key: "Pod/default/web-1/NotReady", anomaly: notReady, status: "resolved" }]);
    expect(reconcile(new Map(), r3.logged, T0 + 3, RETENTION).lines).toEqual([]);
  });

  test("a resolved key that fires again is logged as firing again", () => {
    const r1 = reconcile(desiredOf(notReady), new Map(), T0, RETENTION);
    const r2 = reconcile(new Map(), r1.logged, T0 + 1, RETENTION);
    expect(lines(reconcile(desiredOf(notReady), r2.logged, T0 + 2, RETENTION))).toEqual(["firing:Pod/default/web-1/NotReady"]);
  });

  test("resolved entries are forgotten after DIAGNOSIS_RETENTION_CLEANED_DURATION", () => {
    const logged = new Map<string, LoggedEntry>([["Pod/default/web-1/NotReady", { anomaly: notReady, status: "resolved", loggedAt: T0 }]]);
    expect(reconcile(new Map(), logged, T0 + RETENTION, RETENTION).removed).toEqual([]);
    const r = reconcile(new Map(), logged, T0 + RETENTION + 1, RETENTION);
    expect(r.removed).toEqual(["Pod/default/web-1/NotReady"]);
    expect(r.logged.size).toBe(0);
    expect(r.lines).toEqual([]);
  });

  describe("restart / leader failover (the logged set comes back from the store)", () => {
    const before = reconcile(desiredOf(notReady, backoff), new Map(), T0, RETENTION).logged;

    test("same anomalies still active -> no lines", () => {
      expect(reconcile(desiredOf(notReady, backoff), before, T0 + 60_000, RETENTION).lines).toEqual([]);
    });

    test("cleared while down -> a resolved line", () => {
      expect(lines(reconcile(desiredOf(notReady), before, T0 + 60_000, RETENTION))).toEqual(["resolved:Pod/default/web-1/BackOff"]);
    });

    test("appeared while down -> a firing line", () => {
      const node = anomaly({ kind: "Node", namespace: "", name: "pi-2", reason: "NodeNotReady" });
      expect(lines(reconcile(desiredOf(notReady, backoff, node), before, T0 + 60_000, RETENTION))).toEqual(["firing:Node//pi-2/NodeNotReady"]);
    });
  });

  test("is pure: inputs are not modified", () => {
    const logged = new Map<string, LoggedEntry>([["Pod/default/web-1/BackOff", { anomaly: backoff, status: "firing", loggedAt: T0 }]]);
    const copy = structuredClone(logged);
    reconcile(desiredOf(notReady), logged, T0 + 1, RETENTION);
    expect(logged).toEqual(copy);
  });
});
