// CPU profile of the controller (from source, not the compiled binary) under the bench's steady
// workload: 100 nodes, 3,000 pods, `--rate` watch events/s for `--secs`, the defaults run's settings.
// Summarises the samples taken during the steady phase only (not the initial list): where the CPU
// goes by sample count (a time-weighted profile would also count idle time), self and inclusive.
//   bun bench/profile.ts [--secs 60] [--rate 50] [--out DIR]   → summary on stdout, .cpuprofile in DIR
// Not part of the budget bench: profiling changes what it measures.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_ENV } from "./lib/controller-bench.ts";
import { Driver } from "./lib/fixtures.ts";
import { mean, ProcSampler } from "./lib/sampler.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const secs = Number(arg("secs", "60"));
const rate = Number(arg("rate", "50"));
const out = arg("out", join(tmpdir(), `neuro-profile-${Date.now()}`));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "neuro-prof-"));
const { driver, ready } = await Driver.start(["--dir", join(work, "sim"), "--nodes", "100", "--deployments", "300", "--replicas", "10"]);
const spawnedAt = Date.now();
const proc = Bun.spawn(
  [
    process.execPath,
    "--cpu-prof",
    `--cpu-prof-dir=${out}`,
    join(import.meta.dir, "..", "src", "main.ts"),
    "controller",
    "--kubeconfig",
    ready.kubeconfig,
  ],
  {
    env: { ...process.env, ...BENCH_ENV, NEURO_LOG_DIR: join(work, "log"), NEURO_STATE_DIR: join(work, "state"), NEURO_HTTP_ADDR: "127.0.0.1:0" },
    stdout: "ignore",
    stderr: "inherit",
  },
);
const sampler = new ProcSampler(proc.pid).start();
await Bun.sleep(10_000); // list + settle
sampler.phase = "steady";
const steadyFrom = Date.now() - spawnedAt;
driver.send({ cmd: "steady", secs, rate, probeEveryMs: 0 });
await driver.wait("steady-end", (secs + 60) * 1000);
const steadyTo = Date.now() - spawnedAt;
const steady = sampler.of("steady", 3);
sampler.stop();
proc.kill("SIGTERM");
await proc.exited;
await driver.stop();
rmSync(work, { recursive: true, force: true });

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(out)
  .filter((f) => f.endsWith(".cpuprofile"))
  .map((f) => join(out, f))[0]!;
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) =>
  `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/work\/main\//, "")}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`.trim();
// Sample times are relative to the profile's start (≈ spawn); keep the steady phase (a second of slack each side).
const self = new Map<string, number>();
const incl = new Map<string, number>();
let t = 0;
let kept = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i]! / 1000;
  if (t < steadyFrom + 1000 || t > steadyTo - 1000) continue;
  const leaf = byId.get(prof.samples[i]!)!;
  if (leaf.callFrame.functionName === "(idle)" || leaf.callFrame.functionName === "(program)") {
    idle++;
    continue;
  }
  kept++;
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
  const seen = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id)!);
    if (!seen.has(k)) seen.add(k), incl.set(k, (incl.get(k) ?? 0) + 1);
  }
}
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((100 * v) / kept).toFixed(1).padStart(5)}%  ${k}`);
console.log(
  JSON.stringify({
    secs,
    rate,
    cpuAvgM: +mean(steady.map((s) => s.cpuM)).toFixed(1),
    rssMaxMiB: Math.max(...steady.map((s) => s.rssMiB)),
    samples: kept,
    idleSamples: idle,
    profile: file,
  }),
);
console.log("\nself (share of busy samples in the steady phase):\n" + top(self, 25).join("\n"));
console.log("\ninclusive:\n" + top(incl, 40).join("\n"));
