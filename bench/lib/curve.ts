// The cost curve: the steady workload (50 pod status updates/s) at 100 / 300 / 1,000 nodes (30 pods per
// node: 3k / 9k / 30k pods, 3 Deployments of 10 per node), one controller run per size, no agent. Per
// size: the controller's PSS and anonymous memory over the steady phase, CPU at 50 ev/s, cold start →
// ready, and memory per cached object (the PSS slope between sizes). The cgroup's memory limit is
// raised to 1 GiB here so the curve shows where memory goes past the budget instead of an OOM kill.
// Writes the SVG (the bench generates it; `npm run docs` does not) and returns the points.
import { writeFileSync } from "node:fs";
import { runControllerBench } from "./controller-bench.ts";
import type { LoadMonitor } from "./load.ts";
import { lineCharts } from "./svg.ts";

export interface CurvePoint {
  nodes: number;
  pods: number;
  objects: number;
  controllerPssMiB: number;
  controllerAnonMiB: number;
  cpuM: number;
  readyMs: number;
  bytesPerObject: number;
  oomKills: number;
  load?: unknown;
  note?: string;
}

export async function runCostCurve(
  binary: string,
  opts: { sizes: number[]; steadySecs: number },
  log: (s: string) => void,
  load: LoadMonitor,
  svgPath: string,
): Promise<{ points: CurvePoint[]; image: string; slopeNote: string }> {
  const points: CurvePoint[] = [];
  for (const nodes of opts.sizes) {
    log(`cost curve: ${nodes} nodes, ${nodes * 30} pods`);
    const r = await runControllerBench(
      binary,
      {
        config: "defaults",
        settleMs: 6000,
        steadySecs: opts.steadySecs,
        steadyRate: 50,
        probeEveryMs: 0,
        cluster: { nodes, deployments: nodes * 3, replicas: 10 },
        memoryLimitMiB: 1024,
      },
      log,
      load,
    );
    points.push({
      nodes,
      pods: r.pods,
      objects: r.objects,
      controllerPssMiB: r.steady?.pssMaxMiB,
      controllerAnonMiB: r.steady?.anonMaxMiB,
      cpuM: r.steady?.cpuAvgM,
      readyMs: r.cold?.readyMs,
      bytesPerObject: Number.NaN,
      oomKills: r.oomKills,
      load: r.steady?.load,
      note: r.oomKills ? "OOM-killed" : r.pssPeakMiB > 256 ? "over the 256 MiB slice" : undefined,
    });
    log(`cost curve ${nodes} nodes: PSS ${r.steady?.pssMaxMiB?.toFixed(1)} MiB, CPU ${r.steady?.cpuAvgM?.toFixed(1)}m, ready ${r.cold?.readyMs} ms`);
  }
  // Memory per cached object: the PSS growth from the smallest size to each larger one, per object added
  // (the fixed cost of the binary and runtime cancels out); the smallest size takes the first slope.
  const [a] = points;
  for (const p of points.slice(1)) p.bytesPerObject = ((p.controllerPssMiB - a!.controllerPssMiB) * 1048576) / (p.objects - a!.objects);
  if (a && points[1]) a.bytesPerObject = points[1].bytesPerObject;
  writeFileSync(svgPath, curveSvg(points));
  return { points, image: "images/cost-curve.svg", slopeNote: "the smallest size shows the slope to the next" };
}

/** The plot of the points (also re-rendered from a stored result: `bun bench/cost-curve.ts --render <json>`). */
export function curveSvg(points: CurvePoint[]): string {
  return lineCharts("NeuroController cost curve — steady workload, 50 watch events/s, one controller", "pods", [
    {
      title: "controller PSS",
      unit: "MiB",
      points: points.map((p) => ({ x: p.pods, y: p.controllerPssMiB })),
      refs: [
        { y: 192, label: "goal 192" },
        { y: 256, label: "slice 256" },
      ],
    },
    { title: "CPU at 50 ev/s", unit: "millicores", points: points.map((p) => ({ x: p.pods, y: p.cpuM })), refs: [{ y: 200, label: "slice 200m" }] },
    { title: "cold start → ready", unit: "s", points: points.map((p) => ({ x: p.pods, y: p.readyMs / 1000 })) },
    { title: "PSS per cached object", unit: "KiB", points: points.map((p) => ({ x: p.pods, y: p.bytesPerObject / 1024 })) },
  ]);
}
