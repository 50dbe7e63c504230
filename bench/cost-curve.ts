// The cost curve on its own (the full profile runs it too): the steady workload at 100 / 300 / 1,000 nodes
// (3k / 9k / 30k pods), one compiled controller per size. Writes docs/images/cost-curve.svg and
// bench/results/curve-<date>.json (the newest only); prints the points. Needs root (cgroups).
//   bun bench/cost-curve.ts [--sizes 100,300,1000] [--secs 60]
//   bun bench/cost-curve.ts --render bench/results/curve-<date>.json   (re-draws the SVG from a stored result)
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { curveSvg, runCostCurve } from "./lib/curve.ts";
import { LoadMonitor } from "./lib/load.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const ROOT = join(import.meta.dir, "..");
const binary = join(ROOT, "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);
if (argv.includes("--render")) {
  writeFileSync(join(ROOT, "docs", "images", "cost-curve.svg"), curveSvg(JSON.parse(readFileSync(arg("render", ""), "utf8")).points));
  process.exit(0);
}
const started = Date.now();
const log = (s: string) => console.log(`[curve +${((Date.now() - started) / 1000).toFixed(0)}s] ${s}`);
const load = new LoadMonitor().start();
const sizes = arg("sizes", "100,300,1000").split(",").map(Number);
const curve = await runCostCurve(binary, { sizes, steadySecs: Number(arg("secs", "60")) }, log, load, join(ROOT, "docs", "images", "cost-curve.svg"));
load.stop();
const dir = join(import.meta.dir, "results");
for (const old of readdirSync(dir)) if (old.startsWith("curve-") && old.endsWith(".json")) rmSync(join(dir, old));
const date = new Date().toISOString();
writeFileSync(join(dir, `curve-${date.replace(/[:]/g, "").replace(/\..*$/, "")}.json`), `${JSON.stringify({ date, ...curve }, null, 1)}\n`);
console.log(JSON.stringify(curve.points));
process.exit(0);
