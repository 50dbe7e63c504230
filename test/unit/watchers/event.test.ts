import { describe, expect, test } from "bun:test";
import { WARNING_REASONS, evaluateEvent } from "../../../src/watchers/event.ts";
import { at, event, memCache, min, pod, ruleContext, sec } from "../../support/fixtures.ts";

describe("Warning events", () => {
  for (const reason of Object.keys(WARNING_REASONS).filter((r) => r !== "Unhealthy")) {
    test(`${reason} Warning fires about the involved object`, () => {
      const [a] = evaluateEvent(
        event({ reason, message: "something broke", host: "pi-2", firstMs: -min(2), lastMs: -sec(5), count: 4 }),
        ruleContext().ctx,
      );
      expect(a).toMatchObject({ kind: "Pod", namespace: "default", name: "web-1", node: "pi-2", reason, category: "Event" });
      expect(a!.message).toContain("something broke");
      expect(a!.message).toContain("4 times");
      expect(a!.eventTime).toBe(at(-min(2)));
    });
  }

  test("Normal events never fire, unknown reasons neither", () => {
    expect(evaluateEvent(event({ type: "Normal", reason: "BackOff" }), ruleContext().ctx)).toEqual([]);
    expect(evaluateEvent(event({ type: "Normal", reason: "Pulled" }), ruleContext().ctx)).toEqual([]);
    expect(evaluateEvent(event({ reason: "SomethingElse" }), ruleContext().ctx)).toEqual([]);
  });

  test("stale events are ignored, so an anomaly resolves as time passes", () => {
    const r = ruleContext();
    const e = event({ reason: "FailedMount", firstMs: 0, lastMs: 0 });
    expect(evaluateEvent(e, r.at(min(9)))).toHaveLength(1);
    expect(evaluateEvent(e, r.at(min(11)))).toEqual([]);
  });

  test("node from the cached Pod when the event has no source host; Node events use the node", () => {
    const cache = memCache([pod({ name: "web-1", node: "pi-4" })]);
    const [a] = evaluateEvent(event({ reason: "FailedMount" }), ruleContext({ cache }).ctx);
    expect(a!.node).toBe("pi-4");
    const [n] = evaluateEvent(event({ reason: "Failed", involved: { kind: "Node", name: "pi-3", namespace: "" } }), ruleContext().ctx);
    expect(n).toMatchObject({ kind: "Node", name: "pi-3", node: "pi-3", namespace: "" });
  });

  test("series fields (eventTime + series.count/lastObservedTime) are understood", () => {
    const e = event({
      reason: "BackOff",
      extra: {
        firstTimestamp: null,
        lastTimestamp: null,
        count: undefined,
        eventTime: at(-min(20)),
        series: { count: 7, lastObservedTime: at(-sec(3)) },
      },
    });
    const [a] = evaluateEvent(e, ruleContext().ctx);
    expect(a!.message).toContain("7 times");
    expect(a!.eventTime).toBe(at(-min(20)));
  });
});

describe("Unhealthy needs RULE_EVENT_UNHEALTHY_COUNT within RULE_EVENT_UNHEALTHY_WINDOW", () => {
  const unhealthy = (count: number, firstMs: number, lastMs: number) =>
    event({ reason: "Unhealthy", message: "Readiness probe failed: HTTP probe failed with statuscode: 503", count, firstMs, lastMs });

  test("2 occurrences in 40s do not fire; 3 do", () => {
    expect(evaluateEvent(unhealthy(2, 0, sec(10)), ruleContext().at(sec(10)))).toEqual([]);
    const [a] = evaluateEvent(unhealthy(3, 0, sec(20)), ruleContext().at(sec(20)));
    expect(a!.reason).toBe("Unhealthy");
    expect(a!.message).toContain("3 failures within 40s");
  });

  test("3 occurrences spread over 2 minutes do not fire (seen live or on first sight)", () => {
    const r = ruleContext();
    expect(evaluateEvent(unhealthy(1, 0, 0), r.at(0))).toEqual([]);
    expect(evaluateEvent(unhealthy(2, 0, min(1)), r.at(min(1)))).toEqual([]);
    expect(evaluateEvent(unhealthy(3, 0, min(2)), r.at(min(2)))).toEqual([]);
    expect(evaluateEvent(unhealthy(3, 0, min(2)), ruleContext().at(min(2)))).toEqual([]);
  });

  test("counter-only bumps of one Event object are seen", () => {
    const r = ruleContext();
    // the event existed long ago with count 1; then the counter is bumped 3 times in 20s
    expect(evaluateEvent(unhealthy(1, 0, 0), r.at(0))).toEqual([]);
    expect(evaluateEvent(unhealthy(2, 0, min(5)), r.at(min(5)))).toEqual([]);
    expect(evaluateEvent(unhealthy(3, 0, min(5) + sec(10)), r.at(min(5) + sec(10)))).toEqual([]);
    const [a] = evaluateEvent(unhealthy(4, 0, min(5) + sec(20)), r.at(min(5) + sec(20)));
    expect(a!.message).toContain("3 failures within 40s");
    // stays firing with a stable eventTime until the event goes stale
    const [b] = evaluateEvent(unhealthy(4, 0, min(5) + sec(20)), r.at(min(6)));
    expect(b!.eventTime).toBe(a!.eventTime);
    expect(evaluateEvent(unhealthy(4, 0, min(5) + sec(20)), r.at(min(16)))).toEqual([]);
  });

  test("a long-running failing probe seen first after a restart fires from its average rate", () => {
    const [a] = evaluateEvent(unhealthy(360, -min(60), 0), ruleContext().at(sec(1)));
    expect(a!.reason).toBe("Unhealthy");
  });
});
