// Handover.adopt: the previous leader's published set is the truth, except for what this node logged
// after its own last successful publish (lines already in its log that no other leader knew about).
// Real state.db in a temp dir; the shared ConfigMap and the alerting runtime are stubs (named so).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AlertingRuntime } from "../../../src/controller/alerting-runtime.ts";
import { Handover } from "../../../src/controller/handover.ts";
import type { SharedLoggedEntry, SharedLoggedState, SharedState } from "../../../src/controller/shared-state.ts";
import { StateStore } from "../../../src/store/state-store.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { anomaly, T0 } from "../diagnosis/fixtures.ts";

let tmp: string;
let store: StateStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "neuro-handover-"));
  store = StateStore.open(tmp);
});
afterEach(() => {
  store.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Stub of the ConfigMap beside the Lease: what load() returns, what publish() received. */
class SharedStub {
  state: SharedState | null = null;
  published: Map<string, SharedLoggedEntry>[] = [];
  fail = false;
  async load() {
    return this.state;
  }
  async publish(firing: Map<string, SharedLoggedEntry>) {
    if (this.fail) throw Object.assign(new Error("ECONNREFUSED"), { status: 0 });
    this.published.push(new Map(firing));
    return true;
  }
}
const alertingStub = { adopt() {}, snapshot: () => ({ incidents: {}, pipeline: {} }) } as unknown as AlertingRuntime;

const api = anomaly({ kind: "Cluster", namespace: "", name: "default", reason: "APIServerUnreachable", eventTime: "2026-12-04T10:00:00Z" });
const web = anomaly();
const fire = (a = api, at = T0) => store.setLogged(anomalyKey(a), { anomaly: a, status: "firing", loggedAt: at });

describe("Handover", () => {
  test("a line logged after this node's last publish survives adoption (its resolve is still owed)", async () => {
    const shared = new SharedStub();
    const h = new Handover(shared as unknown as SharedLoggedState, store, alertingStub);
    fire(web, T0);
    await h.publish(T0);
    fire(api, T0 + 1000); // logged while the API was away: publishing it failed
    shared.fail = true;
    await expect(h.publish(T0 + 1000)).rejects.toThrow();
    // The new term's shared state is the one published at T0 (without the outage).
    shared.state = { logged: new Map([[anomalyKey(web), { anomaly: web, loggedAt: T0 }]]) };
    h.newTerm();
    expect(await h.seed()).toBe(true);
    expect(store.getLogged(anomalyKey(api))?.status).toBe("firing");
    expect(store.getLogged(anomalyKey(web))?.status).toBe("firing");
    expect(await h.seed()).toBe(false); // once per term
  });

  test("what this node logged before its last publish yields to the shared state (another leader resolved it since)", async () => {
    const shared = new SharedStub();
    const h = new Handover(shared as unknown as SharedLoggedState, store, alertingStub);
    fire(web, T0);
    fire(api, T0);
    await h.publish(T0);
    shared.state = { logged: new Map([[anomalyKey(web), { anomaly: web, loggedAt: T0 }]]) };
    h.newTerm();
    await h.seed();
    expect(store.getLogged(anomalyKey(api))).toBeUndefined();
    expect(store.getLogged(anomalyKey(web))?.status).toBe("firing");
  });

  test("isSeeded follows the term", async () => {
    const shared = new SharedStub();
    const h = new Handover(shared as unknown as SharedLoggedState, store, alertingStub);
    expect(h.isSeeded).toBe(false);
    await h.seed();
    expect(h.isSeeded).toBe(true);
    h.newTerm();
    expect(h.isSeeded).toBe(false);
  });
});
