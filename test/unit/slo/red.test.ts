import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BUCKETS, bucketOf, bucketValueMs, QUANTILE_RELATIVE_ERROR, quantileOf } from "../../../src/slo/histogram.ts";
import { RedWindows, type ServiceKey } from "../../../src/slo/red.ts";

const web: ServiceKey = { service: "web", namespace: "shop", deployment: "web" };
const T0 = 1_700_000_000_000;

/** The exact nearest-rank quantile of a sample. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe("log-linear histogram", () => {
  test("every value's bucket midpoint is within the stated relative error", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 4_000_000, noNaN: true }), (ms) => {
        const b = bucketOf(ms);
        expect(b).toBeGreaterThan(0);
        expect(b).toBeLessThan(BUCKETS - 1);
        expect(Math.abs(bucketValueMs(b) - ms) / ms).toBeLessThanOrEqual(QUANTILE_RELATIVE_ERROR + 1e-12);
      }),
    );
  });

  test("buckets are ordered like the values, and out-of-range values land in the end buckets", () => {
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(Number.NaN)).toBe(0);
    expect(bucketOf(0.0001)).toBe(0);
    expect(bucketOf(10 * 3_600_000)).toBe(BUCKETS - 1);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 0, max: 1e7, noNaN: true }), (a, b) => {
        if (a <= b) expect(bucketOf(a)).toBeLessThanOrEqual(bucketOf(b));
      }),
    );
  });

  test("no observations → no quantile", () => {
    expect(quantileOf(new Uint32Array(BUCKETS), 0, 0.5)).toBeUndefined();
  });
});

describe("RedWindows", () => {
  test("quantiles of a recorded sample are within the sketch's bound of the exact ones", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 400 }), (values) => {
        const red = new RedWindows({ slotMs: 10_000, windowMs: 60_000 });
        for (const [i, v] of values.entries()) red.record(web, v, false, T0 + (i % 50) * 100);
        const fig = red.query(web, 60_000, T0 + 5_000);
        expect(fig.requests).toBe(values.length);
        for (const q of [0, 0.5, 0.9, 0.99, 1]) {
          const exact = exactQuantile(values, q);
          const got = fig.quantile(q)!;
          expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(QUANTILE_RELATIVE_ERROR + 1e-12);
        }
      }),
      { numRuns: 60 },
    );
  });

  test("counts, error ratio and rate cover only the asked window", () => {
    const red = new RedWindows({ slotMs: 10_000, windowMs: 600_000 });
    // 60 requests a minute for 10 minutes; the last 5 minutes 1 in 4 fails.
    for (let s = 0; s < 600; s++) red.record(web, 20, s >= 300 && s % 4 === 0, T0 + s * 1000);
    const now = T0 + 599_999;
    const last5 = red.query(web, 300_000, now);
    expect(last5.requests).toBe(300);
    expect(last5.errors).toBe(75);
    expect(last5.errorRatio).toBe(0.25);
    expect(last5.ratePerSecond).toBeCloseTo(1, 1);
    const all = red.query(web, 600_000, now);
    expect(all.requests).toBe(600);
    expect(all.errorRatio).toBe(75 / 600);
    // Asking past the longest window is clamped to it; other services see nothing.
    expect(red.query(web, 24 * 3_600_000, now).requests).toBe(600);
    expect(red.query({ ...web, namespace: "other" }, 600_000, now).requests).toBe(0);
    expect(red.query({ ...web, namespace: "other" }, 600_000, now).quantile(0.99)).toBeUndefined();
  });

  test("old slots leave the window and spans older than the ring are dropped, counted", () => {
    const red = new RedWindows({ slotMs: 1000, windowMs: 5000 });
    red.record(web, 100, true, T0);
    expect(red.query(web, 5000, T0 + 1000).errors).toBe(1);
    expect(red.query(web, 5000, T0 + 6000).errors).toBe(0);
    red.record(web, 100, false, T0 + 60_000);
    red.record(web, 100, false, T0);
    expect(red.tooOld).toBe(1);
    expect(red.query(web, 5000, T0 + 60_000).requests).toBe(1);
  });

  test("memory is bounded: retained buckets stay constant after 100k spans across many services", () => {
    const red = new RedWindows({ slotMs: 1000, windowMs: 30_000, maxServices: 20 });
    const bound = red.maxRetainedBuckets;
    expect(bound).toBe(20 * 31);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const samples: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      // The first half: 20 steady services fill their rings; the second half: 300 services churn.
      const n = i < 50_000 ? i % 20 : i % 300;
      red.record({ service: `svc-${n}`, namespace: `ns-${n % 7}` }, rand() * 2000, rand() < 0.05, T0 + i * 5);
      if (i % 10_000 === 9_999) samples.push(red.retainedBuckets());
    }
    // 50k spans at 5 ms apart cover 250 s, far more than the 31-slot ring: every ring is full.
    expect(samples.slice(1, 5)).toEqual([bound, bound, bound, bound]);
    for (const s of samples) expect(s).toBeLessThanOrEqual(bound);
    expect(samples[9]).toBe(samples[8]!);
    expect(red.services().length).toBe(20);
    expect(red.evictions).toBeGreaterThan(0);
  });

  test("queryWhere merges the services a predicate picks (e.g. every service of one Deployment)", () => {
    const red = new RedWindows({ slotMs: 1000, windowMs: 60_000 });
    const api = { service: "api", namespace: "shop", deployment: "web" };
    const other = { service: "web", namespace: "blog", deployment: "web" };
    for (let i = 0; i < 10; i++) red.record(web, 10, i === 0, T0 + i);
    for (let i = 0; i < 30; i++) red.record(api, 1000, false, T0 + i);
    red.record(other, 5, true, T0);
    const merged = red.queryWhere((k) => k.namespace === "shop" && k.deployment === "web", 60_000, T0 + 100);
    expect(merged.requests).toBe(40);
    expect(merged.errors).toBe(1);
    expect(Math.abs(merged.quantile(0.5)! - 1000) / 1000).toBeLessThanOrEqual(QUANTILE_RELATIVE_ERROR);
    expect(red.queryWhere(() => false, 60_000, T0 + 100).quantile(0.5)).toBeUndefined();
  });

  test("the least recently recorded service is the one evicted", () => {
    const red = new RedWindows({ slotMs: 1000, windowMs: 10_000, maxServices: 2 });
    const a = { service: "a", namespace: "n" };
    const b = { service: "b", namespace: "n" };
    const c = { service: "c", namespace: "n" };
    red.record(a, 1, false, T0);
    red.record(b, 1, false, T0);
    red.record(a, 1, false, T0 + 1000);
    red.record(c, 1, false, T0 + 2000);
    expect(red.services().map((s) => s.service)).toEqual(["a", "c"]);
    expect(red.evictions).toBe(1);
  });
});
