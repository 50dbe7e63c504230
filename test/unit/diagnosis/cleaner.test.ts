import { describe, expect, test } from "bun:test";
import { Config } from "../../../src/config/load.ts";
import { Cleaner } from "../../../src/diagnosis/cleaner.ts";
import { Collector } from "../../../src/diagnosis/collector.ts";
import { anomaly, T0 } from "./fixtures.ts";

const opts = { rawRetentionMs: 10 * 60_000, cleanedRetentionMs: 5 * 60_000, rawMax: 100 };

describe("Cleaner", () => {
  test("deduplicates raw observations on kind/namespace/name/reason", () => {
    const c = new Cleaner(opts);
    for (let i = 0; i < 5; i++) c.record(anomaly({ message: `m${i}` }), T0 + i * 1000);
    c.record(anomaly({ reason: "BackOff" }), T0 + 500);
    expect(c.rawSize).toBe(6);
    expect(c.clean(T0 + 5000)).toEqual({ merged: 6, prunedRaw: 0, prunedCleaned: 0 });
    const e = c.cleaned().get("Pod/default/web-1/NotReady")!;
    expect([e.count, e.firstSeen, e.lastSeen, e.status, e.anomaly.message]).toEqual([5, T0, T0 + 4000, "firing", "m0"]);
    expect(c.cleanedSize).toBe(2);
    expect(c.clean(T0 + 6000).merged).toBe(0); // already merged records are not counted twice
    expect([...c.firing().keys()].sort()).toEqual(["Pod/default/web-1/BackOff", "Pod/default/web-1/NotReady"]);
  });

  test("raw records are pruned after DIAGNOSIS_RETENTION_RAW_DURATION", () => {
    const c = new Cleaner(opts);
    c.record(anomaly(), T0);
    c.record(anomaly(), T0 + 9 * 60_000);
    expect(c.clean(T0 + 10 * 60_000 + 1).prunedRaw).toBe(1);
    expect(c.raw().map((r) => r.at)).toEqual([T0 + 9 * 60_000]);
  });

  test("resolved entries are pruned after DIAGNOSIS_RETENTION_CLEANED_DURATION; firing ones are kept", () => {
    const c = new Cleaner(opts);
    c.record(anomaly(), T0);
    c.record(anomaly({ reason: "BackOff" }), T0);
    c.clean(T0);
    c.resolve(anomaly(), T0 + 1000);
    c.clean(T0 + 1000); // resolutions are applied in arrival order by clean()
    expect(c.cleaned().get("Pod/default/web-1/NotReady")).toMatchObject({ status: "resolved", resolvedAt: T0 + 1000 });
    expect(c.clean(T0 + 1000 + 5 * 60_000).prunedCleaned).toBe(0);
    expect(c.clean(T0 + 1001 + 5 * 60_000).prunedCleaned).toBe(1);
    expect([...c.cleaned().keys()]).toEqual(["Pod/default/web-1/BackOff"]);
  });

  test("observations before a resolution do not re-fire it; observations after do", () => {
    const c = new Cleaner(opts);
    c.record(anomaly(), T0);
    c.resolve(anomaly(), T0); // same millisecond: order, not the clock, decides
    c.clean(T0);
    expect(c.cleaned().get("Pod/default/web-1/NotReady")).toMatchObject({ status: "resolved", count: 1, firstSeen: T0 });
    c.record(anomaly({ message: "again" }), T0 + 1);
    c.clean(T0 + 1);
    expect(c.cleaned().get("Pod/default/web-1/NotReady")).toMatchObject({ status: "firing", count: 2, resolvedAt: undefined });
    expect(c.cleaned().get("Pod/default/web-1/NotReady")!.anomaly.message).toBe("again");
  });

  test("at the cap the oldest raw record is dropped and counted, but still reaches the cleaned pool", () => {
    const c = new Cleaner({ ...opts, rawMax: 3, cleanedMax: 10 });
    c.record(anomaly({ name: "a" }), T0);
    c.record(anomaly({ name: "b" }), T0 + 1);
    c.record(anomaly({ name: "c" }), T0 + 2);
    c.record(anomaly({ name: "d" }), T0 + 3);
    expect(c.rawSize).toBe(3);
    expect(c.rawDropped).toBe(1);
    expect(c.raw().map((r) => r.anomaly.name)).toEqual(["b", "c", "d"]);
    c.clean(T0 + 4);
    expect([...c.cleaned().keys()].map((k) => k.split("/")[2]).sort()).toEqual(["a", "b", "c", "d"]);
  });

  test("fromConfig reads the seed keys", () => {
    const c = Cleaner.fromConfig(Config.with({ NEURO_RAW_POOL_MAX: "100" }));
    for (let i = 0; i < 150; i++) c.record(anomaly({ name: `p${i}` }), T0);
    expect([c.rawSize, c.rawDropped]).toEqual([100, 50]);
  });

  test("10,000 pod updates (many keys, repeats, flapping) leave both pools bounded by the caps", () => {
    const rawMax = 500;
    const cleaner = new Cleaner({ rawRetentionMs: 60_000, cleanedRetentionMs: 30_000, rawMax, cleanedMax: 400 });
    let resolutions = 0;
    const collector = new Collector(cleaner, (t) => {
      if (t.type === "resolved") resolutions++;
    });
    const cleanEvery = 5000;
    let now = T0;
    let maxRaw = 0;
    let maxCleaned = 0;
    let pruned = 0;
    for (let i = 0; i < 10_000; i++) {
      now += 7; // ~70 s of simulated time
      const pod = `p${i % 3000}`; // 3,000 distinct pods, each updated ~3 times
      const flapping = i % 2 === 0; // every other update withdraws what the pod yielded
      const reasons = flapping ? [] : ["NotReady", `R${i % 7}`];
      collector.observe(
        `Pod/default/${pod}`,
        reasons.map((reason) => anomaly({ name: pod, reason })),
        now,
      );
      if (i % 250 === 0) collector.forget(`Pod/default/p${(i + 1) % 3000}`, now); // deletions
      if (now % cleanEvery < 7) pruned += cleaner.clean(now).prunedRaw;
      maxRaw = Math.max(maxRaw, cleaner.rawSize);
      maxCleaned = Math.max(maxCleaned, cleaner.cleanedSize);
    }
    pruned += cleaner.clean(now).prunedRaw;
    expect(maxRaw).toBeLessThanOrEqual(rawMax);
    expect(maxCleaned).toBeLessThanOrEqual(400);
    expect(cleaner.rawDropped).toBeGreaterThan(0); // the cap, not luck, bounded it
    // Every firing observation (5,000 non-flapping updates x 2 reasons) and every resolution is accounted for.
    expect(resolutions).toBeGreaterThan(0);
    expect(cleaner.rawSize + cleaner.rawDropped + pruned).toBe(10_000 + resolutions);
    // The collector holds only what is active now: at most one entry per pod and reason.
    expect(collector.activeCount).toBeLessThanOrEqual(3000 * 2);
    expect(collector.sourceCount).toBeLessThanOrEqual(3000);
    // Once everything ages out, nothing is retained.
    for (const key of [...Array(3000).keys()]) collector.forget(`Pod/default/p${key}`, now);
    cleaner.clean(now + 120_000);
    expect([collector.activeCount, collector.sourceCount, cleaner.rawSize, cleaner.cleanedSize]).toEqual([0, 0, 0, 0]);
  });
});

describe("Cleaner cleaned-pool cap", () => {
  test("evicts resolved entries before firing ones", () => {
    const c = new Cleaner({ ...opts, rawMax: 100, cleanedMax: 10 });
    for (let i = 0; i < 5; i++) c.record(anomaly({ name: `firing${i}` }), T0 + i);
    for (let i = 0; i < 5; i++) c.record(anomaly({ name: `gone${i}` }), T0 + i);
    for (let i = 0; i < 5; i++) c.resolve(anomaly({ name: `gone${i}` }), T0 + 5 + i);
    c.clean(T0 + 10);
    expect(c.cleanedSize).toBe(10);
    c.record(anomaly({ name: "new" }), T0 + 20);
    c.clean(T0 + 20);
    expect(c.cleanedSize).toBeLessThanOrEqual(10);
    expect(c.cleanedEvicted).toBeGreaterThan(0);
    expect([...c.cleaned().values()].filter((e) => e.status === "firing").length).toBe(6);
  });
});
