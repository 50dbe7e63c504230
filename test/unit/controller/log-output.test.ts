// Before the informers have synced, only the controller's own anomalies may be decided, and nothing
// already logged as firing may resolve by mistake.
import { describe, expect, test } from "bun:test";
import { API_SOURCE, apiUnreachable, LOG_SOURCE, logWriteFailing } from "../../../src/controller/external-anomalies.ts";
import { activeSet } from "../../../src/controller/log-output.ts";
import { Collector } from "../../../src/diagnosis/collector.ts";
import type { LoggedEntry } from "../../../src/diagnosis/reconcile.ts";
import { anomalyKey } from "../../../src/model/anomaly.ts";
import { anomaly, T0 } from "../diagnosis/fixtures.ts";

const firing = anomaly({ name: "was-firing" });
const logged = new Map<string, LoggedEntry>([
  [anomalyKey(firing), { anomaly: firing, status: "firing", loggedAt: T0 }],
  [anomalyKey(anomaly({ name: "was-resolved" })), { anomaly: anomaly({ name: "was-resolved" }), status: "resolved", loggedAt: T0 }],
]);

describe("activeSet", () => {
  test("synced: the collector's desired set as it is", () => {
    const c = new Collector();
    c.observe("Pod/default/x", [anomaly({ name: "x" })], T0);
    expect([...activeSet(c, logged, true)!.keys()]).toEqual([anomalyKey(anomaly({ name: "x" }))]);
  });

  test("not synced and nothing of the controller's own: nothing to decide", () => {
    const c = new Collector();
    c.observe("Pod/default/x", [anomaly({ name: "x" })], T0);
    expect(activeSet(c, logged, false)).toBeUndefined();
  });

  test("not synced with the API server unreachable: the outage is added, what was firing stays firing", () => {
    const c = new Collector();
    const outage = apiUnreachable("c1", "https://k3s:6443", "connect ECONNREFUSED", T0);
    c.observe(API_SOURCE, [outage], T0);
    const active = activeSet(c, logged, false)!;
    expect([...active.keys()].sort()).toEqual([anomalyKey(firing), anomalyKey(outage)].sort());
  });

  test("not synced with the log failing: LogWriteFailing is decided too", () => {
    const c = new Collector();
    const failing = logWriteFailing("node-a", "/var/log/neurocontroller/cleaned_events.log", "ENOSPC: no space left", T0);
    c.observe(LOG_SOURCE, [failing], T0);
    expect(activeSet(c, logged, false)!.has(anomalyKey(failing))).toBe(true);
    expect(failing).toMatchObject({ kind: "Controller", name: "node-a", reason: "LogWriteFailing", severity: "critical" });
  });
});
