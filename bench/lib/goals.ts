// Issue 18's goals, reported next to the budgets: the bench says which are met, and fails only on the
// hard budgets (report.ts). Each figure is the median of its runs where the bench repeats it.
import { loadNote } from "./load.ts";
import { fmtSpread } from "./stats.ts";

const f = (x: unknown, d = 0) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "n/a");
/** A timing figure measured on a machine too loaded to trust is not judged either way. */
const met = (ok: boolean | undefined, loaded?: boolean) => (ok === undefined ? "n/a" : loaded ? "not judged (too loaded)" : ok ? "met" : "not met");

export function goalRows(r: Record<string, any>): string[] {
  const S = r.summary ?? {};
  const D = r.defaults ?? {};
  const rows: [string, string, string, boolean | undefined, boolean?][] = [];
  const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
  const le = (x: unknown, g: number) => (num(x) === undefined ? undefined : (x as number) <= g);
  // The goal is for the pair: without the agent (no eBPF, --skip agent) the controller's figure is shown, not judged.
  const pair = D.agent?.ran === true;
  rows.push([
    `PSS controller + agent, steady, 3k pods${pair ? "" : " (agent not run: controller only)"}`,
    fmtSpread(S.steadyPssMiB, 1, " MiB"),
    "≤ 128 MiB",
    pair ? le(S.steadyPssMiB?.median, 128) : undefined,
  ]);
  rows.push(["PSS peak, storm", `${f(D.storm?.combinedPssMaxMiB, 1)} MiB`, "≤ 192 MiB", le(D.storm?.combinedPssMaxMiB, 192)]);
  rows.push([
    "CPU at 50 ev/s, this machine",
    fmtSpread(S.steadyCpuM, 1, "m") + loadNote(S.load?.steady),
    "≤ 12m",
    le(S.steadyCpuM?.median, 12),
    S.load?.steady?.tooLoaded,
  ]);
  rows.push([
    "pipeline ceiling vs bare JSON.parse",
    fmtSpread(S.ceilingRatio, 2, "×"),
    "≤ 2×",
    le(S.ceilingRatio?.median, 2),
    S.load?.ceiling?.tooLoaded,
  ]);
  const sp = S.spansLossless?.median;
  rows.push([
    "spans/s lossless at QoS 1 in the budget cgroup",
    fmtSpread(S.spansLossless, 0) + loadNote(S.load?.spans),
    "≥ 50k",
    // The short profile's steps stop below 50k: it cannot show the goal either way.
    num(sp) === undefined || (r.spans?.steps?.at(-1)?.rate ?? 0) < 50_000 ? undefined : sp >= 50_000,
    S.load?.spans?.tooLoaded,
  ]);
  const rowOf = (re: RegExp) => (r.agentOverhead?.rows ?? []).find((x: any) => re.test(x.case));
  const un = rowOf(/unbound/);
  // The floor of the probe's own program kind: raw tracepoints since the probe uses them (older results: classic).
  const empty = rowOf(/^empty raw/) ?? rowOf(/empty/);
  const agg = rowOf(/aggregates/);
  const base = rowOf(/^no probe/);
  const overFloor = un && empty ? un.ns - empty.ns : undefined;
  rows.push([
    "probe cost, untraced process, over an empty tracepoint program",
    un && empty
      ? `${f(overFloor)} ns (probe ${un.ns}, empty program ${empty.ns}, no probe ${base?.ns ?? "n/a"} ns/syscall)${loadNote(r.agentOverhead?.load)}`
      : "n/a",
    "≤ +60 ns",
    le(overFloor, 60),
    r.agentOverhead?.load?.tooLoaded || (overFloor ?? 0) < 0, // below the floor is noise, not a result
  ]);
  const aggOver = agg && base ? agg.ns - base.ns : undefined;
  rows.push(["probe cost, traced with aggregates", `+${f(aggOver)} ns/syscall`, "≤ +300 ns", le(aggOver, 300), r.agentOverhead?.load?.tooLoaded]);
  rows.push([
    "cold start → ready, 3k pods",
    fmtSpread(S.coldReadyMs, 0, " ms") + loadNote(S.load?.cold),
    "≤ 1,500 ms",
    le(S.coldReadyMs?.median, 1500),
    S.load?.cold?.tooLoaded,
  ]);
  const big = (r.curve?.points ?? []).find((p: any) => p.pods >= 30_000);
  rows.push([
    "controller PSS at 30k pods",
    big ? `${f(big.controllerPssMiB, 1)} MiB` : "n/a (full profile only)",
    "≤ 192 MiB",
    big ? le(big.controllerPssMiB, 192) : undefined,
  ]);
  return [
    "### Goals (issue 18)",
    "",
    "| figure | measured (median, min–max) | goal | |",
    "|---|---|---|---|",
    ...rows.map(([a, b, c, d, loaded]) => `| ${a} | ${b} | ${c} | ${met(d, loaded)} |`),
    "",
    ...(r.curve?.points?.length ? curveRows(r.curve) : []),
  ];
}

function curveRows(c: Record<string, any>): string[] {
  return [
    "### Cost curve (steady workload, 50 ev/s)",
    "",
    `![cost curve](${c.image ?? "images/cost-curve.svg"})`,
    "",
    "| nodes | pods | cached objects | controller PSS | controller anon | PSS per cached object | CPU at 50 ev/s | cold start → ready | |",
    "|---|---|---|---|---|---|---|---|---|",
    ...c.points.map(
      (p: any) =>
        `| ${p.nodes} | ${p.pods} | ${p.objects} | ${f(p.controllerPssMiB, 1)} MiB | ${f(p.controllerAnonMiB, 1)} MiB | ${f(p.bytesPerObject / 1024, 2)} KiB | ${f(p.cpuM, 1)}m | ${f(p.readyMs)} ms | ${p.note ?? ""}${loadNote(p.load)} |`,
    ),
    "",
    `PSS per cached object is the slope between the smallest and each larger cluster (${c.slopeNote ?? ""}).`,
    "",
  ];
}
