import { describe, expect, test } from "bun:test";
import { emptyPipelineState, step } from "../../../src/alerting/pipeline.ts";
import { correlate, emptyIncidentState } from "../../../src/correlation/incidents.ts";
import type { Anomaly } from "../../../src/model/anomaly.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, app, Driver, indexedCache, node, nodeDown, podCrash, testConfig } from "./helpers.ts";

describe("pipeline", () => {
  test("resolved notifications go out at the next flush, only to channels that got the firing one", () => {
    const d = new Driver(memCache(app("web")));
    const one = activeOf(podCrash("web-1"));
    d.tick(one, T0);
    d.tick(one, T0 + sec(30));
    d.tick(new Map(), T0 + min(1));
    expect(d.sent).toHaveLength(2);
    const out = d.tick(new Map(), T0 + sec(30) + min(5));
    expect(out.map((n) => `${n.channel}:${n.payload.status}:${n.level}`)).toEqual(["slack:resolved:light", "mqtt:resolved:light"]);
    const p = out[0]!.payload;
    expect(p.title).toBe("RESOLVED CrashLoopBackOff on Pod default/web-1");
    expect(p.alerts.map((a) => a.name)).toEqual(["web-1"]);
    expect(p.incidentId).toBe(d.sent[0]!.payload.incidentId);
    expect(p.fingerprint).not.toBe(d.sent[0]!.payload.fingerprint);
    expect(d.pipeline.groups).toEqual({});
    expect(d.tick(new Map(), T0 + min(30))).toEqual([]);
  });

  test("an incident merged into another (node failure) resolves as merged; the survivor announces the new root", () => {
    const cache = memCache([...app("web"), ...app("api"), node("pi-1")]);
    const d = new Driver(cache, testConfig({ enabled: ["slack"] }));
    const before = activeOf(podCrash("web-1"), podCrash("web-2"), podCrash("api-1"));
    d.tick(before, T0);
    d.tick(before, T0 + sec(30));
    d.tick(before, T0 + sec(35));
    expect(d.sent).toHaveLength(2); // one incident per Deployment
    const apiIncident = d.sent.find((n) => n.payload.alerts[0]!.name === "api-1")!.payload.incidentId;
    const webIncident = d.sent.find((n) => n.payload.alerts[0]!.name === "web-1")!.payload.incidentId;
    cache.put(node("pi-1", { ready: "Unknown" }));
    for (let t = sec(40); t <= min(6); t += sec(5)) d.tick(activeOf(podCrash("web-1"), podCrash("web-2"), podCrash("api-1"), nodeDown()), T0 + t);
    const after = d.sent.slice(2).map((n) => [n.payload.incidentId, n.payload.status, n.payload.title]);
    expect(after).toEqual([
      [webIncident, "firing", "[HIGH-RISK] NodeNotReady on Node pi-1 (+3 suppressed)"],
      [apiIncident, "resolved", `RESOLVED (merged into incident ${webIncident}) CrashLoopBackOff on Pod default/api-1`],
    ]);
  });

  test("an incident that resolves within group_wait sends nothing at all", () => {
    const d = new Driver(memCache(app("web")));
    d.tick(activeOf(podCrash("web-1")), T0);
    d.tick(new Map(), T0 + sec(20));
    for (let t = sec(25); t < min(20); t += sec(5)) d.tick(new Map(), T0 + t);
    expect(d.sent).toEqual([]);
  });

  test("disabled channels get nothing; ids are deterministic and unique", () => {
    const run = () => {
      const d = new Driver(memCache([node("pi-1", { ready: "False" })]), testConfig({ enabled: ["mqtt", "email"] }));
      d.tick(activeOf(nodeDown()), T0);
      d.tick(new Map(), T0 + min(1));
      d.tick(new Map(), T0 + min(5));
      return d.sent.map((n) => n.id);
    };
    const ids = run();
    expect(ids.map((id) => id.split(":").slice(1).join(":"))).toEqual(["email:1", "mqtt:1", "email:2", "mqtt:2"]);
    expect(run()).toEqual(ids);
  });

  test("payload: AlertGroupData exactly as docs/architecture.md", () => {
    const d = new Driver(memCache([node("pi-1", { ready: "False" })]), testConfig({ clusterId: "pi-cluster" }));
    const p = d.tick(activeOf(nodeDown()), T0)[0]!.payload;
    expect(Object.keys(p).sort()).toEqual([
      "alertCount",
      "alerts",
      "clusterId",
      "fingerprint",
      "incidentId",
      "level",
      "namespaceList",
      "nodeList",
      "status",
      "title",
    ]);
    expect(Object.keys(p.alerts[0]!).sort()).toEqual(["kind", "message", "name", "namespace", "node", "reason", "severity", "time"]);
    expect(p).toMatchObject({ clusterId: "pi-cluster", level: "high-risk", status: "firing", alertCount: 1, nodeList: ["pi-1"], namespaceList: [] });
    expect(p.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  test("step is pure and its state survives a restart (JSON) without re-announcing", () => {
    const cache = memCache(app("web"));
    const cfg = testConfig();
    const c1 = correlate(emptyIncidentState(), activeOf(podCrash("web-1")), cache, T0);
    const s1 = step(emptyPipelineState(), { incidentChanges: c1.changes, silences: [] }, T0, cfg);
    const s2 = step(s1.state, { incidentChanges: [], silences: [] }, T0 + sec(30), cfg);
    const frozen = JSON.stringify(s2.state);
    expect(s2.notifications).toHaveLength(2);
    const again = step(JSON.parse(frozen), { incidentChanges: [], silences: [] }, T0 + min(1), cfg);
    expect(again.notifications).toEqual([]);
    step(s2.state, { incidentChanges: [], silences: [] }, T0 + min(10), cfg);
    expect(JSON.stringify(s2.state)).toBe(frozen);
  });

  test("storm: 50 crash-looping Pods on a failed node, 10,000 updates -> one incident, a handful of notifications", () => {
    const apps = ["web", "api", "cart", "auth", "search"];
    const objects = apps.flatMap((a) => app(a, { pods: 10, ready: 4 }));
    const cache = indexedCache([...objects, node("pi-1", { ready: "Unknown", readySinceMs: 0 })]);
    const d = new Driver(cache);
    const pods = apps.flatMap((a) => Array.from({ length: 10 }, (_, i) => `${a}-${i + 1}`));
    const firing = new Map<string, Anomaly>();
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    let now = T0;
    let maxMembers = 0;
    for (let update = 0; update < 10_000; update++) {
      now += 60; // 10,000 updates over 10 minutes
      if (update < 50) firing.set(pods[update]!, podCrash(pods[update]!, "pi-1", { message: `restart ${update}` }));
      else {
        const name = pods[Math.floor(random() * pods.length)]!;
        if (firing.has(name) && random() < 0.3)
          firing.delete(name); // flapping: resolves...
        else firing.set(name, podCrash(name, "pi-1", { message: `restart ${update}` })); // ...and fires again
      }
      if (update === 700) firing.set("node", nodeDown("pi-1")); // NodeNotReady fires ~40s in
      d.tick(activeOf(...firing.values()), now);
      const open = Object.values(d.incidents.incidents);
      if (open.length !== 1 || open[0]!.members.length !== firing.size) {
        throw new Error(`update ${update}: ${open.length} incidents, ${open[0]?.members.length} members for ${firing.size} anomalies`);
      }
      maxMembers = Math.max(maxMembers, open[0]!.members.length); // every anomaly is in the one incident
    }
    expect(maxMembers).toBeGreaterThanOrEqual(45);
    expect(Object.values(d.incidents.incidents)[0]!.members[0]!.key).toBe("Node//pi-1/NodeNotReady"); // root cause first
    // Recovery: the node comes back and the Pods with it.
    for (let t = 0; t <= min(10); t += sec(5)) d.tick(new Map(), now + t);
    expect(d.changes.filter((c) => c.type === "opened")).toHaveLength(1);
    expect(d.changes.filter((c) => c.type === "resolved")).toHaveLength(1);
    for (const ch of ["slack", "email", "mqtt"]) {
      const got = d.byChannel(ch);
      expect(got.length).toBeGreaterThanOrEqual(2);
      expect(got.length).toBeLessThanOrEqual(5);
      expect(got.at(-1)!.payload.status).toBe("resolved");
    }
    expect(d.summary().slice(0, 3)).toEqual(["email:firing:high-risk", "slack:firing:high-risk", "mqtt:firing:high-risk"]);
    expect(d.pipeline.groups).toEqual({});
    expect(d.pipeline.throttle.held).toEqual([]);
  }, 60_000); // 10,000 correlate + step rounds: allow a slow or busy machine
});
