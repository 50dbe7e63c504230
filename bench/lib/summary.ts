// The repeated figures of one bench run: each one the median of its runs with its spread, and whether
// the machine was too loaded while they were measured. With one defaults run (the short profile) the
// steady phase's three windows stand in for runs; the full profile repeats whole runs.
import type { LoadVerdict } from "./load.ts";
import { type Spread, spread } from "./stats.ts";

export interface RepeatSummary {
  /** "runs" (whole defaults runs repeated) or "windows" (one run cut into three). */
  basis: "runs" | "windows";
  steadyCpuM: Spread;
  steadyPssMiB: Spread;
  steadyPssAnonMiB: Spread;
  steadyRssMiB: Spread;
  coldReadyMs: Spread;
  ceilingRatio?: Spread;
  spansLossless?: Spread;
  /** Worst load verdict of the phases each figure comes from. */
  load: { steady?: LoadVerdict; cold?: LoadVerdict; spans?: LoadVerdict; ceiling?: LoadVerdict; agent?: LoadVerdict; latency?: LoadVerdict };
}

const worst = (vs: (LoadVerdict | undefined)[]): LoadVerdict | undefined =>
  vs.filter((v): v is LoadVerdict => !!v).sort((a, b) => Number(b.tooLoaded) - Number(a.tooLoaded) || b.during.load1Median - a.during.load1Median)[0];

export function repeatSummary(r: Record<string, any>): RepeatSummary {
  const runs: any[] = r.defaultsRuns ?? (r.defaults ? [r.defaults] : []);
  const basis = runs.length >= 2 ? "runs" : "windows";
  const steady = runs.map((x) => x.steady ?? {});
  const of = (k: string) => spread(steady.map((s) => s[k]));
  return {
    basis,
    steadyCpuM: basis === "runs" ? of("cpuAvgM") : (steady[0]?.windows?.cpuAvgM ?? spread([])),
    steadyPssMiB: basis === "runs" ? of("combinedPssMaxMiB") : (steady[0]?.windows?.combinedPssMaxMiB ?? spread([])),
    steadyPssAnonMiB: of("combinedPssAnonMaxMiB"),
    steadyRssMiB: of("rssMaxMiB"),
    coldReadyMs: spread([r.latency?.cold?.readyMs, ...runs.map((x) => x.cold?.readyMs)].filter((x) => typeof x === "number")),
    ceilingRatio: r.ceiling?.runs ? spread(r.ceiling.runs) : undefined,
    spansLossless: r.spanRuns?.length ? spread(r.spanRuns.map((x: any) => x.sustainedLossless)) : undefined,
    load: {
      steady: worst(steady.map((s) => s.load)),
      latency: r.latency?.steady?.load,
      cold: worst([r.latency?.cold?.load, ...runs.map((x) => x.cold?.load)]),
      spans: worst((r.spanRuns ?? []).map((x: any) => x.load)),
      ceiling: r.ceiling?.load,
      agent: r.agentOverhead?.load,
    },
  };
}
