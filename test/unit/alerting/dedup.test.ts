import { describe, expect, test } from "bun:test";
import { needsNotification, uniqueByFingerprint, type SentRecord } from "../../../src/alerting/dedup.ts";
import { fingerprint } from "../../../src/model/fingerprint.ts";
import type { IncidentMember } from "../../../src/model/incident.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, anomaly, app, Driver, podCrash } from "./helpers.ts";

const member = (name: string, message = "m"): IncidentMember => {
  const a = anomaly({ name, message });
  return { key: name, fingerprint: fingerprint(a), anomaly: a, joinedAt: T0 };
};
const sent = (firing: string[], at = T0): SentRecord => ({ firing, alerts: [], level: "light", at });

describe("dedup", () => {
  test("one member per fingerprint, first wins, order kept", () => {
    const a = member("web-1", "first");
    const out = uniqueByFingerprint([a, member("web-2"), { ...member("web-1", "second"), key: "dup" }]);
    expect(out.map((m) => [m.anomaly.name, m.anomaly.message])).toEqual([
      ["web-1", "first"],
      ["web-2", "m"],
    ]);
  });

  test("needsNotification: first, new alert, resolved alert, repeat — and nothing else", () => {
    const active = new Set(["a", "b"]);
    expect(needsNotification(undefined, ["a"], active, T0, min(60))).toBe("first");
    expect(needsNotification(undefined, [], active, T0, min(60))).toBeUndefined();
    expect(needsNotification(sent(["a"]), ["a", "b"], active, T0, min(60))).toBe("new-alerts");
    expect(needsNotification(sent(["a", "c"]), ["a"], active, T0, min(60))).toBe("resolved-alerts");
    expect(needsNotification(sent(["a", "b"]), ["a"], active, T0, min(60))).toBeUndefined(); // b still active, now hidden
    expect(needsNotification(sent(["a"]), ["a"], active, T0 + min(59), min(60))).toBeUndefined();
    expect(needsNotification(sent(["a"]), ["a"], active, T0 + min(60), min(60))).toBe("repeat");
  });

  test("the same anomaly observed 1,000 times (changing messages) is one alert, notified once per channel", () => {
    const d = new Driver(memCache(app("web")));
    for (let i = 0; i < 1000; i++) d.tick(activeOf(podCrash("web-1", "pi-1", { message: `restart ${i}` })), T0 + i * 100);
    expect(d.summary()).toEqual(["slack:firing:light", "mqtt:firing:light"]);
    expect(d.sent[0]!.payload.alertCount).toBe(1);
  });

  test("an alert resolving inside an open incident updates the channels at the next flush", () => {
    const d = new Driver(memCache(app("web")));
    const both = activeOf(podCrash("web-1"), podCrash("web-2"));
    d.tick(both, T0);
    d.tick(both, T0 + sec(30));
    d.tick(activeOf(podCrash("web-2")), T0 + min(1));
    const out = d.tick(activeOf(podCrash("web-2")), T0 + sec(30) + min(5));
    expect(out.map((n) => n.payload.alerts.map((a) => a.name))).toEqual([["web-2"], ["web-2"]]);
  });
});
