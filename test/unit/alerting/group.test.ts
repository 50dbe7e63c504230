// Grouping timers with Alertmanager's meaning, driven through correlate() + step() with an injected clock.
import { describe, expect, test } from "bun:test";
import { afterFlush, expedite, newGroupTimer } from "../../../src/alerting/group.ts";
import { memCache, min, sec, T0 } from "../../support/fixtures.ts";
import { activeOf, app, Driver, node, nodeDown, podCrash, testConfig } from "./helpers.ts";

const H = 3_600_000;
const cfg = testConfig();

describe("group timers", () => {
  test("group_wait: nothing before it, one notification per channel at it, with what arrived meanwhile", () => {
    const d = new Driver(memCache(app("web")));
    expect(d.tick(activeOf(podCrash("web-1")), T0)).toEqual([]);
    expect(d.tick(activeOf(podCrash("web-1"), podCrash("web-2")), T0 + sec(10))).toEqual([]);
    expect(d.tick(activeOf(podCrash("web-1"), podCrash("web-2")), T0 + sec(29))).toEqual([]);
    const out = d.tick(activeOf(podCrash("web-1"), podCrash("web-2")), T0 + sec(30));
    expect(out.map((n) => `${n.channel}:${n.level}`)).toEqual(["slack:light", "mqtt:light"]);
    expect(out[0]!.payload.alerts.map((a) => a.name)).toEqual(["web-1", "web-2"]);
  });

  test("group_interval: a change is announced at the next flush (group_wait + k·group_interval), not before", () => {
    const d = new Driver(memCache(app("web")));
    const one = activeOf(podCrash("web-1"));
    const two = activeOf(podCrash("web-1"), podCrash("web-2"));
    d.tick(one, T0);
    d.tick(one, T0 + sec(30));
    expect(d.sent).toHaveLength(2);
    for (let t = sec(35); t < sec(30) + min(5); t += sec(5)) expect(d.tick(two, T0 + t)).toEqual([]);
    const update = d.tick(two, T0 + sec(30) + min(5));
    expect(update.map((n) => n.channel)).toEqual(["slack", "mqtt"]);
    expect(update[0]!.payload.alertCount).toBe(2);
    expect(update[0]!.id).toMatch(/:slack:2$/);
  });

  test("an unchanged group is not re-sent at flushes; repeat_interval re-sends it on the flush grid", () => {
    const d = new Driver(memCache(app("web")));
    const one = activeOf(podCrash("web-1"));
    d.tick(one, T0);
    d.tick(one, T0 + sec(30));
    let t = sec(30);
    while (t < sec(30) + 4 * H - min(5)) {
      t += min(5);
      expect(d.tick(one, T0 + t)).toEqual([]);
    }
    const repeat = d.tick(one, T0 + sec(30) + 4 * H);
    expect(repeat.map((n) => n.channel)).toEqual(["slack", "mqtt"]);
    expect(repeat[0]!.payload.fingerprint).toBe(d.sent[0]!.payload.fingerprint); // same content, re-sent
  });

  test("a coarse tick flushes at the first tick after the due time and keeps the grid", () => {
    const d = new Driver(memCache(app("web")));
    const one = activeOf(podCrash("web-1"));
    const times: number[] = [];
    for (let t = 0; t <= sec(30) + min(10); t += sec(7)) {
      const out = d.tick(t < min(1) ? one : activeOf(podCrash("web-1"), podCrash("web-2")), T0 + t);
      if (out.length) times.push(t);
    }
    expect(times).toEqual([sec(35), sec(336)]); // due 30s -> first tick 35s; next due 5m30s -> tick 5m36s
  });

  test("high-risk skips group_wait", () => {
    const d = new Driver(memCache([node("pi-1", { ready: "False" })]));
    const out = d.tick(activeOf(nodeDown()), T0);
    expect(out.map((n) => `${n.channel}:${n.level}`)).toEqual(["email:high-risk", "slack:high-risk", "mqtt:high-risk"]);
  });

  test("escalation to high-risk flushes at once, and only once", () => {
    const d = new Driver(memCache(app("web", { pods: 6, ready: 1 })));
    const pods = (n: number) => Array.from({ length: n }, (_, i) => podCrash(`web-${i + 1}`));
    d.tick(activeOf(...pods(2)), T0);
    expect(d.tick(activeOf(...pods(2)), T0 + sec(30)).map((n) => n.level)).toEqual(["light", "light"]);
    const escalated = d.tick(activeOf(...pods(5)), T0 + sec(40));
    expect(escalated.map((n) => `${n.channel}:${n.level}`)).toEqual(["email:high-risk", "slack:high-risk", "mqtt:high-risk"]);
    expect(d.tick(activeOf(...pods(6)), T0 + sec(50))).toEqual([]); // back on the group_interval grid
    expect(d.tick(activeOf(...pods(6)), T0 + sec(40) + min(5)).map((n) => n.channel)).toEqual(["email", "slack", "mqtt"]);
  });

  test("timer helpers", () => {
    const t = newGroupTimer(T0, cfg, false);
    expect(t.nextFlushAt).toBe(T0 + sec(30));
    expect(newGroupTimer(T0, cfg, true).nextFlushAt).toBe(T0);
    expect(afterFlush(t, T0 + sec(31), cfg).nextFlushAt).toBe(T0 + sec(30) + min(5));
    expect(afterFlush(t, T0 + H, cfg).nextFlushAt).toBe(T0 + H + min(5)); // never in the past
    expect(expedite(t, T0 + sec(1)).nextFlushAt).toBe(T0 + sec(1));
  });
});
