// ConfigMapDocument against the simulator: optimistic concurrency (a writer that lost the race re-reads
// and re-applies, no lost update) for both users — silences and the leader's shared state — and the
// shared state's byte bound.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SilenceStore } from "../../src/alerting/silence-store.ts";
import { SharedLoggedState, SHARED_STATE_MAX_BYTES, type SharedLoggedEntry } from "../../src/controller/shared-state.ts";
import { KubeClient } from "../../src/kube/client.ts";
import type { RequestOptions } from "../../src/kube/request.ts";
import { ConfigMapDocument, ConfigMapTooLarge, dataBytes } from "../../src/kube/configmap-document.ts";
import { loadConnection, type Connection } from "../../src/kube/kubeconfig.ts";
import type { Simulator } from "../../src/sim/index.ts";
import { start } from "../sim/helpers.ts";

/** A real client whose next PUT first lets `beforePut` run: another writer slips in between read and write. */
class InterleavingClient extends KubeClient {
  beforePut?: () => Promise<void>;
  puts = 0;
  constructor(conn: Connection) {
    super(conn);
  }
  override async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (method === "PUT") {
      this.puts++;
      const hook = this.beforePut;
      this.beforePut = undefined;
      if (hook) await hook();
    }
    return super.request<T>(method, path, opts);
  }
}

let sim: Simulator;
let conn: Connection;
let plain: KubeClient;
let n = 0;
const NS = "kube-system";

beforeAll(async () => {
  sim = await start();
  conn = loadConnection({ kubeconfig: sim.kubeconfig(), env: {} })!;
  plain = new KubeClient(conn);
});
afterAll(() => sim.stop());

const silenceInput = (ns: string) => ({ matchers: `namespace=${ns}`, duration: "1h", comment: `quiet ${ns}`, createdBy: "test" });

describe("ConfigMapDocument: two writers", () => {
  test("silences: a second writer between read and PUT → the first re-applies on a fresh read; both silences kept", async () => {
    const name = `silences-${++n}`;
    const a = new InterleavingClient(conn);
    const storeA = new SilenceStore(a, NS, name);
    const storeB = new SilenceStore(plain, NS, name);
    const now = Date.now();
    await storeA.add(silenceInput("first"), now); // creates the ConfigMap (POST)
    a.beforePut = async () => {
      await storeB.add(silenceInput("shop"), now);
    };
    await storeA.add(silenceInput("cart"), now);
    expect(a.puts).toBe(2); // the stale PUT (409) and the re-applied one
    const matchers = (await storeB.list()).map((s) => s.matchers.map((m) => m.value).join());
    expect(matchers.sort()).toEqual(["cart", "first", "shop"]);
  });

  test("shared state: a concurrent writer's key survives the leader's publish (no blind PUT)", async () => {
    const name = `state-${++n}`;
    const a = new InterleavingClient(conn);
    const shared = new SharedLoggedState(a, NS, name);
    const other = new ConfigMapDocument(plain, NS, name);
    const entry = (at: number): SharedLoggedEntry => ({ anomaly: anomaly(`p-${at}`, "x"), loggedAt: at });
    await shared.publish(new Map([["k1", entry(1)]]));
    a.beforePut = async () => {
      await other.update((data) => ({ ...data, "other.json": "written by the other writer" }));
    };
    expect(await shared.publish(new Map([["k2", entry(2)]]))).toBe(true);
    const cm = await other.read();
    expect(cm?.data["other.json"]).toBe("written by the other writer");
    expect(Object.keys(JSON.parse(cm!.data["logged.json"]!))).toEqual(["k2"]);
  });

  test("conflicts beyond the attempt budget surface as the 409, nothing is written", async () => {
    const name = `budget-${++n}`;
    const a = new InterleavingClient(conn);
    const doc = new ConfigMapDocument(a, NS, name, { maxAttempts: 3 });
    const other = new ConfigMapDocument(plain, NS, name);
    await other.update(() => ({ v: "0" }));
    let bumps = 0;
    const bump = async () => {
      await other.update(() => ({ v: `other-${++bumps}` }));
      if (bumps < 5) a.beforePut = bump;
    };
    a.beforePut = bump;
    const err = await doc.update(() => ({ v: "mine" })).catch((e) => e);
    expect(err?.status).toBe(409);
    expect(doc.conflicts).toBe(2);
    expect((await other.read())?.data.v).toMatch(/^other-/);
  });

  test("data over the size bound is refused before it is sent", async () => {
    const doc = new ConfigMapDocument(plain, NS, `big-${++n}`, { maxBytes: 1000 });
    const err = await doc.update(() => ({ big: "x".repeat(1001) })).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigMapTooLarge);
    expect(await doc.read()).toBeNull();
  });
});

function anomaly(name: string, message: string) {
  return {
    kind: "Event",
    namespace: "default",
    name,
    node: "",
    reason: "BackOff",
    severity: "warning" as const,
    category: "Event",
    message,
    eventTime: "2026-01-01T00:00:00Z",
  };
}

describe("shared state bounded by bytes", () => {
  test("thousands of large entries: the ConfigMap stays under 512 KiB, the newest are kept, the dropped counted", async () => {
    const name = `bounded-${++n}`;
    const shared = new SharedLoggedState(plain, NS, name);
    const firing = new Map<string, SharedLoggedEntry>();
    for (let i = 0; i < 3000; i++)
      firing.set(`Event/default/p-${i}/BackOff`, { anomaly: anomaly(`p-${i}`, "m".repeat(2000)), loggedAt: 1_000_000 + i });
    const alerting = { incidents: { big: "y".repeat(300 * 1024) } };
    expect(await shared.publish(firing, alerting)).toBe(true);
    const cm = await new ConfigMapDocument(plain, NS, name).read();
    expect(dataBytes(cm!.data)).toBeLessThan(SHARED_STATE_MAX_BYTES);
    expect(dataBytes(cm!.data)).toBeLessThan(512 * 1024);
    const kept = JSON.parse(cm!.data["logged.json"]!) as Record<string, SharedLoggedEntry>;
    const keptAt = Object.values(kept).map((e) => e.loggedAt);
    expect(keptAt.length).toBeGreaterThan(10);
    expect(shared.lastDropped).toBe(3000 - keptAt.length);
    // Oldest dropped first: every kept entry is newer than every dropped one.
    expect(Math.min(...keptAt)).toBe(1_000_000 + 3000 - keptAt.length);
    // The alerting state did not fit beside it: omitted (counted), not truncated into invalid JSON.
    expect(cm!.data["alerting.json"]).toBeUndefined();
    expect(shared.alertingOmitted).toBe(1);
    const loaded = await new SharedLoggedState(plain, NS, name).load();
    expect(loaded?.logged.size).toBe(keptAt.length);
  });
});
