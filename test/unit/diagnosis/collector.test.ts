import { describe, expect, test } from "bun:test";
import { Cleaner } from "../../../src/diagnosis/cleaner.ts";
import { Collector, type Transition } from "../../../src/diagnosis/collector.ts";
import { anomaly, T0 } from "./fixtures.ts";

const types = (ts: Transition[]) => ts.map((t) => `${t.type}:${t.key}`);

describe("Collector", () => {
  test("first observation fires, repeats do not, withdrawal resolves", () => {
    const c = new Collector();
    const a = anomaly();
    expect(types(c.observe("Pod/default/web-1", [a], T0))).toEqual(["firing:Pod/default/web-1/NotReady"]);
    expect(c.observe("Pod/default/web-1", [a], T0 + 5000)).toEqual([]);
    const e = c.active().get("Pod/default/web-1/NotReady")!;
    expect([e.firstSeen, e.lastSeen, e.count]).toEqual([T0, T0 + 5000, 2]);
    const out = c.observe("Pod/default/web-1", [], T0 + 10_000);
    expect(out).toEqual([{ type: "resolved", key: "Pod/default/web-1/NotReady", anomaly: a, at: T0 + 10_000 }]);
    expect(c.activeCount).toBe(0);
    expect(c.sourceCount).toBe(0);
  });

  test("a key is active while at least one source yields it", () => {
    const c = new Collector();
    const backoff = anomaly({ reason: "BackOff", category: "Event" });
    expect(types(c.observe("Event/default/ev-1", [backoff], T0))).toEqual(["firing:Pod/default/web-1/BackOff"]);
    expect(c.observe("Event/default/ev-2", [backoff], T0 + 1)).toEqual([]);
    expect(c.observe("Event/default/ev-1", [], T0 + 2)).toEqual([]); // ev-2 still says so
    expect(c.activeCount).toBe(1);
    expect(types(c.forget("Event/default/ev-2", T0 + 3))).toEqual(["resolved:Pod/default/web-1/BackOff"]);
    expect(c.forget("Event/default/ev-2", T0 + 4)).toEqual([]); // idempotent
  });

  test("the first anomaly is kept for logging, the latest is tracked", () => {
    const c = new Collector();
    c.observe("Pod/default/web-1", [anomaly({ message: "first" })], T0);
    c.observe("Pod/default/web-1", [anomaly({ message: "second" })], T0 + 1);
    const e = c.active().get("Pod/default/web-1/NotReady")!;
    expect(e.anomaly.message).toBe("first");
    expect(e.latest.message).toBe("second");
    expect(c.desired().get("Pod/default/web-1/NotReady")!.message).toBe("first");
  });

  test("forget resolves everything a deleted object yielded; emits to the callback and the sink", () => {
    const seen: Transition[] = [];
    const cleaner = new Cleaner({ rawRetentionMs: 60_000, cleanedRetentionMs: 60_000, rawMax: 100 });
    const c = new Collector(cleaner, (t) => seen.push(t));
    c.observe("Pod/default/web-1", [anomaly(), anomaly({ reason: "HighRestartRate" })], T0);
    expect(c.activeByReason()).toEqual(
      new Map([
        ["NotReady", 1],
        ["HighRestartRate", 1],
      ]),
    );
    c.forget("Pod/default/web-1", T0 + 1);
    expect(types(seen)).toEqual([
      "firing:Pod/default/web-1/NotReady",
      "firing:Pod/default/web-1/HighRestartRate",
      "resolved:Pod/default/web-1/NotReady",
      "resolved:Pod/default/web-1/HighRestartRate",
    ]);
    expect(cleaner.rawSize).toBe(4); // two observations, two resolutions, applied in order by clean()
    cleaner.clean(T0 + 2);
    expect([...cleaner.cleaned().values()].map((e) => e.status)).toEqual(["resolved", "resolved"]);
  });

  test("duplicate keys within one observation count once", () => {
    const c = new Collector();
    c.observe("Pod/default/web-1", [anomaly(), anomaly()], T0);
    expect(types(c.observe("Pod/default/web-1", [], T0 + 1))).toEqual(["resolved:Pod/default/web-1/NotReady"]);
  });
});
