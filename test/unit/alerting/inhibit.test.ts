import { describe, expect, test } from "bun:test";
import { inhibitions } from "../../../src/alerting/inhibit.ts";
import { correlate, emptyIncidentState } from "../../../src/correlation/incidents.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, app, deployUnavailable, deployUnready, Driver, endpointsEmpty, node, nodeDown, podCrash } from "./helpers.ts";

describe("inhibition", () => {
  test("a NotReady node inhibits its Pods: one alert notified, every anomaly kept in the incident", () => {
    const d = new Driver(memCache([...app("web"), ...app("api"), node("pi-1", { ready: "Unknown" })]));
    const active = activeOf(nodeDown(), podCrash("web-1"), podCrash("web-2"), podCrash("api-1"));
    const out = d.tick(active, T0);
    expect(out).toHaveLength(3); // high-risk: email, slack, mqtt at once
    const p = out[0]!.payload;
    expect(p.alerts.map((a) => `${a.kind}/${a.name}/${a.reason}`)).toEqual(["Node/pi-1/NodeNotReady"]);
    expect(p.alertCount).toBe(1);
    expect(p.title).toBe("[HIGH-RISK] NodeNotReady on Node pi-1 (+3 suppressed)");
    expect(p.nodeList).toEqual(["pi-1"]);
    expect(p.namespaceList).toEqual(["default"]);
    expect(Object.values(d.incidents.incidents)[0]!.members).toHaveLength(4);
  });

  test("inhibited Pods becoming visible (node recovered, Pods still failing) is news at the next flush", () => {
    const d = new Driver(memCache([...app("web"), node("pi-1", { ready: "Unknown" })]));
    d.tick(activeOf(nodeDown(), podCrash("web-1")), T0);
    expect(d.sent).toHaveLength(3);
    d.cache = memCache([...app("web"), node("pi-1")]);
    expect(d.tick(activeOf(podCrash("web-1")), T0 + min(1))).toEqual([]);
    const out = d.tick(activeOf(podCrash("web-1")), T0 + min(5));
    expect(out[0]!.payload.alerts.map((a) => a.name)).toEqual(["web-1"]);
  });

  test("a critical alert inhibits warnings on the same object only", () => {
    const cache = memCache(app("web", { ready: 1 }));
    const { changes } = correlate(
      emptyIncidentState(),
      activeOf(podCrash("web-1"), deployUnready(), deployUnavailable(), endpointsEmpty()),
      cache,
      T0,
    );
    const inhibited = inhibitions(changes[0]!.incident);
    expect([...inhibited]).toEqual([["Deployment/default/web/UnavailableReplica", "Deployment/default/web/UnreadyReplicaRatio"]]);
  });

  test("the payload lists the chain root cause first, without the inhibited warning", () => {
    const d = new Driver(memCache(app("web", { ready: 0 })));
    const out = d.tick(activeOf(endpointsEmpty(), deployUnavailable(), deployUnready(), podCrash("web-1")), T0);
    expect(out[0]!.level).toBe("high-risk"); // the whole Deployment is down
    expect(out[0]!.payload.alerts.map((a) => `${a.kind}:${a.reason}`)).toEqual([
      "Pod:CrashLoopBackOff",
      "Deployment:UnreadyReplicaRatio",
      "Endpoints:NoReadyAddress",
    ]);
    expect(out[0]!.payload.title).toBe("[HIGH-RISK] CrashLoopBackOff on Pod default/web-1 and 2 related alerts (+1 suppressed)");
  });

  test("an inhibitor that left the incident no longer inhibits", () => {
    const cache = memCache([...app("web"), node("pi-1", { ready: "Unknown" })]);
    const { changes } = correlate(emptyIncidentState(), activeOf(nodeDown(), podCrash("web-1")), cache, T0 + sec(1));
    const incident = changes[0]!.incident;
    expect(inhibitions(incident).size).toBe(1);
    expect(inhibitions({ ...incident, members: incident.members.slice(1) }).size).toBe(0);
  });
});
