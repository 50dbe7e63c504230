import { describe, expect, test } from "bun:test";
import { emptyThrottleState, offer, release, type BucketSpec } from "../../../src/alerting/throttle.ts";
import type { AlertLevel, Channel, Notification } from "../../../src/model/alert.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, app, Driver, podCrash, testConfig } from "./helpers.ts";

const budgets: Record<Channel, BucketSpec> = {
  slack: { capacity: 1, refillEveryMs: sec(5) },
  email: { capacity: 2, refillEveryMs: min(30) },
  mqtt: { capacity: 60, refillEveryMs: sec(1) },
};

function note(incidentId: string, seq: number, channel: Channel = "slack", level: AlertLevel = "light"): Notification {
  return {
    id: `${incidentId}:${channel}:${seq}`,
    channel,
    level,
    createdAt: T0,
    payload: {
      title: `${incidentId} #${seq}`,
      nodeList: [],
      namespaceList: [],
      alertCount: 0,
      alerts: [],
      clusterId: "c",
      level,
      status: "firing",
      incidentId,
      fingerprint: `${seq}`,
    },
  };
}

describe("throttle", () => {
  test("over budget a notification is held, then released when a token comes back — never dropped", () => {
    let s = emptyThrottleState();
    for (const id of ["a", "b", "c"]) s = offer(s, note(id, 1), T0);
    let r = release(s, budgets, T0);
    expect(r.released.map((n) => n.id)).toEqual(["a:slack:1"]);
    expect(r.state.held).toHaveLength(2);
    r = release(r.state, budgets, T0 + sec(4));
    expect(r.released).toEqual([]);
    r = release(r.state, budgets, T0 + sec(5));
    expect(r.released.map((n) => n.id)).toEqual(["b:slack:1"]);
    r = release(r.state, budgets, T0 + sec(10));
    expect(r.released.map((n) => n.id)).toEqual(["c:slack:1"]);
    expect(r.state.held).toEqual([]);
  });

  test("a newer notification for the same incident and channel supersedes the held one (merged), keeping its place", () => {
    let s = emptyThrottleState();
    s = offer(s, note("a", 1), T0);
    s = offer(s, note("b", 1), T0);
    s = release(s, budgets, T0).state; // a:1 out, b:1 held
    s = offer(s, note("b", 2), T0 + sec(1));
    s = offer(s, note("c", 1), T0 + sec(1));
    expect(s.held.map((h) => h.notification.id)).toEqual(["b:slack:2", "c:slack:1"]);
    const r = release(s, budgets, T0 + sec(5));
    expect(r.released.map((n) => n.payload.title)).toEqual(["b #2"]);
  });

  test("budgets are per channel; high-risk leaves first", () => {
    let s = emptyThrottleState();
    s = offer(s, note("a", 1, "email"), T0);
    s = offer(s, note("b", 1, "email"), T0);
    s = offer(s, note("c", 1, "email"), T0 + 1);
    s = offer(s, note("d", 1, "email", "high-risk"), T0 + 2);
    for (let i = 0; i < 5; i++) s = offer(s, note(`m${i}`, 1, "mqtt"), T0);
    const r = release(s, budgets, T0 + 2);
    expect(r.released.map((n) => n.id)).toEqual(["d:email:1", "a:email:1", "m0:mqtt:1", "m1:mqtt:1", "m2:mqtt:1", "m3:mqtt:1", "m4:mqtt:1"]);
    expect(r.state.held.map((h) => h.notification.id)).toEqual(["b:email:1", "c:email:1"]);
    expect(release(r.state, budgets, T0 + 2 + min(30)).released.map((n) => n.id)).toEqual(["b:email:1"]);
  });

  test("in the pipeline: simultaneous incidents share the Slack budget, all delivered, state is persisted not lost", () => {
    const d = new Driver(memCache([...app("a"), ...app("b"), ...app("c")]), testConfig({ enabled: ["slack"] }));
    const active = activeOf(podCrash("a-1"), podCrash("b-1"), podCrash("c-1"));
    d.tick(active, T0);
    expect(d.tick(active, T0 + sec(30))).toHaveLength(1);
    expect(d.pipeline.throttle.held).toHaveLength(2);
    const restored = JSON.parse(JSON.stringify(d.pipeline)); // a restart while two are held
    d.pipeline = restored;
    expect(d.tick(active, T0 + sec(33))).toHaveLength(0);
    expect(d.tick(active, T0 + sec(35))).toHaveLength(1);
    expect(d.tick(active, T0 + sec(40))).toHaveLength(1);
    expect(new Set(d.sent.map((n) => n.payload.incidentId)).size).toBe(3);
  });

  test("in the pipeline: a held update is merged into the newer one (email, one per hour)", () => {
    const cfg = testConfig({ enabled: ["email"], budgets: { ...testConfig().budgets, email: { capacity: 1, refillEveryMs: min(60) } } });
    const d = new Driver(memCache(app("web", { pods: 3, ready: 1 })), cfg);
    const crit = (n: number) => Array.from({ length: n }, (_, i) => podCrash(`web-${i + 1}`, "pi-1", { severity: "critical" }));
    d.tick(activeOf(...crit(1)), T0);
    expect(d.tick(activeOf(...crit(1)), T0 + sec(30)).map((n) => n.payload.alertCount)).toEqual([1]);
    d.tick(activeOf(...crit(2)), T0 + sec(30) + min(5)); // update decided, held (no token)
    d.tick(activeOf(...crit(3)), T0 + sec(30) + min(10)); // newer update supersedes it
    expect(d.pipeline.throttle.held.map((h) => h.notification.payload.alertCount)).toEqual([3]);
    expect(d.tick(activeOf(...crit(3)), T0 + min(59))).toEqual([]);
    const out = d.tick(activeOf(...crit(3)), T0 + sec(30) + min(60));
    expect(out.map((n) => [n.id, n.payload.alertCount])).toEqual([[d.sent[0]!.payload.incidentId + ":email:3", 3]]);
  });
});
