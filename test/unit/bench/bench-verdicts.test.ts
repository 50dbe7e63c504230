// The bench's own arithmetic and judgement (bench/lib): medians and spreads, the load verdict, PSS from
// smaps_rollup, and the rule that a timing budget broken on a machine too loaded to trust is reported,
// not failed, while a memory budget always fails.
import { describe, expect, test } from "bun:test";
import { LoadMonitor, type LoadVerdict } from "../../../bench/lib/load.ts";
import { combined, smapsRollup } from "../../../bench/lib/memory.ts";
import { checks } from "../../../bench/lib/report.ts";
import { fmtSpread, spread, windows } from "../../../bench/lib/stats.ts";

describe("spread and windows", () => {
  test("median of odd and even counts, min–max, non-finite values ignored", () => {
    expect(spread([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 3, 2])).toMatchObject({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([5, Number.NaN, 7]).n).toBe(2);
    expect(spread([]).n).toBe(0);
    expect(fmtSpread(spread([17.6, 15.2, 19]), 1, "m")).toBe("17.6m (15.2–19.0, n=3)");
    expect(fmtSpread(spread([]))).toBe("n/a");
  });

  test("windows cut a series into k consecutive parts, the remainder in the last", () => {
    const w = windows([1, 2, 3, 4, 5, 6, 7], 3);
    expect(w).toEqual([
      [1, 2],
      [3, 4],
      [5, 6, 7],
    ]);
    expect(windows([1], 3)).toEqual([[1]]);
  });
});

describe("load verdict", () => {
  const monitor = (loads: number[], steal = 0) => {
    const m = new LoadMonitor();
    const t0 = 1_000_000;
    for (const [i, load1] of loads.entries()) m.samples.push({ t: t0 + i * 1000, load1, stealPct: steal, busyPct: 50 });
    return { m, from: t0 };
  };

  test("a quiet phase is trusted; a median load above 1.5 per core or steal above 5 % is not, with the reason", () => {
    const n = new LoadMonitor().nproc;
    const quiet = monitor([0.5, 0.6, 0.7]);
    expect(quiet.m.verdict(quiet.from, quiet.from + 5000).tooLoaded).toBe(false);
    const busy = monitor([0.5, 2 * n, 2 * n, 2 * n]);
    const v = busy.m.verdict(busy.from, busy.from + 5000);
    expect(v.tooLoaded).toBe(true);
    expect(v.reason).toContain("load");
    expect(v.before.load1).toBe(0.5);
    const stolen = monitor([0.1, 0.1, 0.1], 12);
    expect(stolen.m.verdict(stolen.from, stolen.from + 5000).reason).toContain("steal");
  });

  test("live samples from /proc are well-formed", () => {
    const s = new LoadMonitor().sample();
    expect(s.load1).toBeGreaterThanOrEqual(0);
    expect(s.busyPct).toBeGreaterThanOrEqual(0);
    expect(s.busyPct).toBeLessThanOrEqual(100);
  });
});

describe("PSS from smaps_rollup", () => {
  test("this process: PSS ≤ RSS, anonymous > 0; two reads of the same pid sum to twice its PSS", () => {
    const m = smapsRollup(process.pid);
    expect(m).not.toBeNull();
    expect(m!.pssMiB).toBeGreaterThan(0);
    expect(m!.pssMiB).toBeLessThanOrEqual(m!.rssMiB + 0.01);
    expect(m!.anonMiB).toBeGreaterThan(0);
    expect(smapsRollup(0x3fffffff)).toBeNull();
    const both = combined([process.pid, 0x3fffffff]);
    expect(both?.n).toBe(1);
  });
});

describe("budgets on a loaded machine", () => {
  const loaded: LoadVerdict = {
    before: { load1: 9, stealPct: 0 },
    during: { load1Max: 10, load1Median: 9, stealPctAvg: 0, busyPctAvg: 100 },
    nproc: 2,
    tooLoaded: true,
    reason: "load 9.0 > 3.0 (1.5/core)",
  };
  const quiet: LoadVerdict = { ...loaded, during: { ...loaded.during, load1Median: 1 }, tooLoaded: false, reason: undefined };
  const result = (v: LoadVerdict, pssPeak: number) => ({
    defaults: { steady: { cpuAvgM: 80, rssMaxMiB: 120, load: v }, pssPeakMiB: pssPeak, hwmMiB: 150, oomKills: 0, exitCode: 0 },
    latency: { oomKills: 0, exitCode: 0, hwmMiB: 140, pssPeakMiB: 90 },
    summary: { steadyCpuM: spread([80, 75, 90]), load: { steady: v } },
  });
  const find = (cs: ReturnType<typeof checks>, name: string) => cs.find((c) => c.name.startsWith(name))!;

  test("CPU over budget under load: not judged (reported, not failed); on a quiet machine: failed", () => {
    const underLoad = find(checks(result(loaded, 100)), "CPU at 50");
    expect(underLoad.pass).toBeNull();
    expect(underLoad.untrusted).toBe(true);
    expect(underLoad.figure).toContain("too loaded to trust");
    const onQuiet = find(checks(result(quiet, 100)), "CPU at 50");
    expect(onQuiet.pass).toBe(false);
  });

  test("PSS over 256 MiB fails whatever the load", () => {
    expect(find(checks(result(loaded, 300)), "peak PSS").pass).toBe(false);
    expect(find(checks(result(loaded, 200)), "peak PSS").pass).toBe(true);
  });
});
