import { describe, expect, test } from "bun:test";
import { fingerprint, hashString, labelsFingerprint } from "../../../src/model/fingerprint.ts";
import { correlate, emptyIncidentState, rootOf, type IncidentState } from "../../../src/correlation/incidents.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { condition, memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, anomaly, app, deployUnavailable, deployUnready, endpointsEmpty, node, nodeDown, podCrash } from "../alerting/helpers.ts";

const keysOf = (s: IncidentState) => Object.values(s.incidents).map((i) => i.members.map((m) => m.key));

describe("fingerprint", () => {
  test("FNV-1a 64 as Alertmanager/Prometheus compute it", () => {
    expect(hashString("a")).toBe("af63dc4c8601ec8c"); // published FNV-1a 64 test vector
    expect(labelsFingerprint({})).toBe("cbf29ce484222325"); // Prometheus' empty label set
    expect(labelsFingerprint({ b: "2", a: "1" })).toBe(labelsFingerprint({ a: "1", b: "2" }));
    expect(labelsFingerprint({ a: "1", empty: "" })).toBe(labelsFingerprint({ a: "1" }));
  });

  test("same kind/namespace/name/reason, same fingerprint; message, node and severity do not count", () => {
    const a = anomaly();
    expect(fingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
    const changed: typeof a = { ...a, message: "other", severity: "critical", node: "pi-9" };
    expect(fingerprint(changed)).toBe(fingerprint(a));
    expect(fingerprint({ ...a, reason: "OOMKilled" })).not.toBe(fingerprint(a));
    expect(fingerprint({ ...a, namespace: "shop" })).not.toBe(fingerprint(a));
  });
});

describe("correlate", () => {
  test("crash-looping Deployment whose Service lost its endpoints is one incident, root cause first", () => {
    const cache = memCache(app("web", { ready: 0 }));
    const active = activeOf(endpointsEmpty(), deployUnavailable(), podCrash("web-2"), deployUnready(), podCrash("web-1"), podCrash("web-3"));
    const { state, changes } = correlate(emptyIncidentState(), active, cache, T0);
    expect(changes.map((c) => c.type)).toEqual(["opened"]);
    const incident = changes[0]!.incident;
    expect(incident.members.map((m) => m.key)).toEqual([
      "Pod/default/web-1/CrashLoopBackOff",
      "Pod/default/web-2/CrashLoopBackOff",
      "Pod/default/web-3/CrashLoopBackOff",
      "Deployment/default/web/UnreadyReplicaRatio",
      "Deployment/default/web/UnavailableReplica",
      "Endpoints/default/web/NoReadyAddress",
    ]);
    expect(rootOf(incident).anomaly.reason).toBe("CrashLoopBackOff");
    expect(incident.members.every((m) => !m.inhibitedBy)).toBe(true);
    expect(incident.scope).toEqual({ pods: 3, nodes: ["pi-1"], namespaces: ["default"], workloadsDown: ["Deployment/default/web"] });
    expect(state.incidents[incident.id]).toEqual(incident);
  });

  test("the Service links to its Deployment even when no Pod has an anomaly", () => {
    const cache = memCache(app("web"));
    const { changes } = correlate(emptyIncidentState(), activeOf(endpointsEmpty(), deployUnavailable()), cache, T0);
    expect(changes).toHaveLength(1);
    expect(rootOf(changes[0]!.incident).anomaly.kind).toBe("Deployment");
  });

  test("unrelated Deployments on the same healthy node stay separate incidents", () => {
    const cache = memCache([...app("web"), ...app("api"), node("pi-1")]);
    const { changes } = correlate(emptyIncidentState(), activeOf(podCrash("web-1"), podCrash("api-1")), cache, T0);
    expect(changes.map((c) => c.incident.members.map((m) => m.anomaly.name))).toEqual([["api-1"], ["web-1"]]);
  });

  test("a NotReady node is the root of its Pods' anomalies and inhibits them; Pods elsewhere are not included", () => {
    const cache = memCache([
      ...app("web", { nodeOf: () => "pi-1" }),
      ...app("api", { nodeOf: () => "pi-1" }),
      ...app("db", { pods: 1, nodeOf: () => "pi-2" }),
      node("pi-1", { ready: "Unknown", readySinceMs: -min(2) }),
      node("pi-2"),
    ]);
    const active = activeOf(podCrash("web-1"), podCrash("api-2"), nodeDown("pi-1"), podCrash("db-1", "pi-2"));
    const { changes } = correlate(emptyIncidentState(), active, cache, T0);
    expect(changes).toHaveLength(2);
    const nodeIncident = changes.find((c) => rootOf(c.incident).anomaly.kind === "Node")!.incident;
    expect(nodeIncident.members.map((m) => [m.anomaly.name, m.inhibitedBy ?? ""])).toEqual([
      ["pi-1", ""],
      ["api-2", "Node//pi-1/NodeNotReady"],
      ["web-1", "Node//pi-1/NodeNotReady"],
    ]);
    expect(nodeIncident.scope.nodes).toEqual(["pi-1"]);
    expect(changes.find((c) => c !== changes.find((x) => x.incident === nodeIncident))!.incident.members.map((m) => m.anomaly.name)).toEqual([
      "db-1",
    ]);
  });

  test("Pods on a node the cache shows down are one incident before NodeNotReady fires; the node then becomes its root", () => {
    const cache = memCache([...app("web"), ...app("api"), node("pi-1", { ready: "Unknown", readySinceMs: -sec(10) })]);
    const pods = [podCrash("web-1"), podCrash("api-1"), podCrash("api-2")];
    const first = correlate(emptyIncidentState(), activeOf(...pods), cache, T0);
    expect(first.changes).toHaveLength(1);
    const id = first.changes[0]!.incident.id;
    const second = correlate(first.state, activeOf(...pods, nodeDown()), cache, T0 + sec(40));
    expect(second.changes.map((c) => [c.type, c.incident.id, c.joined])).toEqual([["updated", id, ["Node//pi-1/NodeNotReady"]]]);
    const incident = second.changes[0]!.incident;
    expect(rootOf(incident).key).toBe("Node//pi-1/NodeNotReady");
    expect(incident.members.slice(1).every((m) => m.inhibitedBy === "Node//pi-1/NodeNotReady")).toBe(true);
    expect(incident.openedAt).toBe(T0);
  });

  test("lifecycle: open, unchanged, join, leave, resolve — with a stable id", () => {
    const cache = memCache(app("web"));
    const a1 = podCrash("web-1");
    const a2 = podCrash("web-2");
    const r1 = correlate(emptyIncidentState(), activeOf(a1), cache, T0);
    const id = r1.changes[0]!.incident.id;
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    const r2 = correlate(r1.state, activeOf({ ...a1, message: "restart 7" }), cache, T0 + sec(5));
    expect(r2.changes).toEqual([]); // re-observation: not a change
    const r3 = correlate(r2.state, activeOf(a1, a2), cache, T0 + sec(10));
    expect(r3.changes.map((c) => [c.type, c.incident.id, c.joined, c.left])).toEqual([["updated", id, [anomalyKey(a2)], []]]);
    expect(r3.changes[0]!.incident.members.find((m) => m.key === anomalyKey(a1))!.joinedAt).toBe(T0);
    const r4 = correlate(r3.state, activeOf(a2), cache, T0 + sec(20));
    expect(r4.changes.map((c) => [c.type, c.incident.id, c.joined, c.left])).toEqual([["updated", id, [], [anomalyKey(a1)]]]);
    const r5 = correlate(r4.state, new Map(), cache, T0 + sec(30));
    expect(r5.changes.map((c) => [c.type, c.incident.id, c.incident.status, c.incident.resolvedAt])).toEqual([
      ["resolved", id, "resolved", T0 + sec(30)],
    ]);
    expect(r5.state.incidents).toEqual({});
    // Firing again later is a new incident with a new id.
    const r6 = correlate(r5.state, activeOf(a1), cache, T0 + min(5));
    expect(r6.changes[0]!.type).toBe("opened");
    expect(r6.changes[0]!.incident.id).not.toBe(id);
  });

  test("state survives a JSON round trip (restart): no changes, same ids", () => {
    const cache = memCache(app("web", { ready: 0 }));
    const active = activeOf(podCrash("web-1"), deployUnready(), endpointsEmpty());
    const r1 = correlate(emptyIncidentState(), active, cache, T0);
    const restored = JSON.parse(JSON.stringify(r1.state)) as IncidentState;
    const r2 = correlate(restored, active, cache, T0 + min(1));
    expect(r2.changes).toEqual([]);
    expect(Object.keys(r2.state.incidents)).toEqual(Object.keys(r1.state.incidents));
  });

  test("incidents joined by a node failure merge: the larger keeps its id, the other resolves as merged into it", () => {
    const cache = memCache([...app("web"), ...app("api"), node("pi-1")]);
    const webs = [podCrash("web-1"), podCrash("web-2")];
    const r1 = correlate(emptyIncidentState(), activeOf(...webs, podCrash("api-1")), cache, T0);
    expect(r1.changes).toHaveLength(2);
    const webId = r1.changes.find((c) => c.incident.members[0]!.anomaly.name.startsWith("web"))!.incident.id;
    cache.put(node("pi-1", { ready: "False", readySinceMs: sec(10), conditions: [condition("Ready", "False", sec(10))] }));
    const r2 = correlate(r1.state, activeOf(...webs, podCrash("api-1"), nodeDown()), cache, T0 + min(1));
    expect(r2.changes.map((c) => [c.type, c.incident.id === webId, c.incident.mergedInto === webId])).toEqual([
      ["updated", true, false],
      ["resolved", false, true],
    ]);
    expect(keysOf(r2.state)).toHaveLength(1);
    expect(keysOf(r2.state)[0]).toHaveLength(4);
  });

  test("membership is sticky: when the node recovers, its still-failing pods stay in its incident (no new incidents, no re-announcement)", () => {
    const cache = memCache([...app("web"), ...app("api"), node("pi-1", { ready: "False", readySinceMs: -min(5) })]);
    const all = [nodeDown(), podCrash("web-1"), podCrash("web-2"), podCrash("api-1")];
    const r1 = correlate(emptyIncidentState(), activeOf(...all), cache, T0);
    expect(r1.changes.length).toBe(1);
    const id = r1.changes[0]!.incident.id;
    cache.put(node("pi-1"));
    const r2 = correlate(r1.state, activeOf(podCrash("web-1"), podCrash("web-2"), podCrash("api-1")), cache, T0 + min(1));
    expect(r2.changes.map((c) => [c.type, c.incident.id])).toEqual([["updated", id]]);
    const kept = r2.changes[0]!;
    expect(kept.incident.members.map((m) => m.anomaly.name).sort()).toEqual(["api-1", "web-1", "web-2"]);
    expect(kept.left).toEqual(["Node//pi-1/NodeNotReady"]);
    // a sibling pod of the same Deployment failing later joins that incident through the topology
    const r3 = correlate(r2.state, activeOf(podCrash("web-1"), podCrash("web-2"), podCrash("api-1"), podCrash("api-2")), cache, T0 + min(2));
    expect(r3.changes.map((c) => [c.type, c.incident.id])).toEqual([["updated", id]]);
    expect(r3.changes[0]!.joined).toEqual(["Pod/default/api-2/CrashLoopBackOff"]);
  });

  test("is pure: the previous state is not modified", () => {
    const cache = memCache(app("web"));
    const r1 = correlate(emptyIncidentState(), activeOf(podCrash("web-1")), cache, T0);
    const snapshot = JSON.stringify(r1.state);
    correlate(r1.state, activeOf(podCrash("web-1"), podCrash("web-2")), cache, T0 + 1);
    correlate(r1.state, new Map(), cache, T0 + 2);
    expect(JSON.stringify(r1.state)).toBe(snapshot);
  });
});
