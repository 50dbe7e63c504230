// The budget bench: `npm run bench` (full) / `npm run bench:budget` (short, for CI).
// Drives the COMPILED binary (builds it when dist/ lacks it) inside a cgroup with the appliance
// budget, runs workloads (a)–(e), writes bench/results/<profile>-<date>.json and latest.md, and
// exits 1 when any budget is broken (see bench/README.md).
//   bun bench/run.ts [--profile short|full] [--skip spans,otlp,ceiling,logging,agent,sse]   (logging alone: bun bench/logging.ts)
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { removeStaleCgroups, verifyEnforcement } from "./lib/cgroup.ts";
import { runControllerBench, type ControllerProfile } from "./lib/controller-bench.ts";
import { checks, markdown, writeResults } from "./lib/report.ts";
import { runOtlpIntake } from "./otlp-intake.ts";
import { runSpanTransport } from "./span-transport.ts";
import { runLoggingBench } from "./logging.ts";
import { createCgroup } from "./lib/cgroup.ts";

const argv = process.argv.slice(2);
const profile = argv.includes("--profile") ? argv[argv.indexOf("--profile") + 1]! : "short";
const skip = new Set((argv.includes("--skip") ? argv[argv.indexOf("--skip") + 1]! : "").split(","));
if (profile !== "short" && profile !== "full") throw new Error(`--profile short|full, not ${profile}`);
const ROOT = join(import.meta.dir, "..");
const started = Date.now();
const log = (s: string) => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${s}`);

const P = {
  short: {
    latency: { config: "latency", settleMs: 4000, steadySecs: 30, steadyRate: 50, probeEveryMs: 2500 },
    defaults: {
      config: "defaults",
      settleMs: 6000,
      steadySecs: 60,
      steadyRate: 50,
      probeEveryMs: 0,
      storm: { secs: 60, reschedule: 1000, updates: 10_000 },
    },
    spans: { steps: [5000, 10_000, 20_000, 40_000], secs: 2 },
    otlp: { secs: 5, concurrency: 4 },
    ceilingEvents: 10_000,
    ddBytes: 200_000,
  },
  full: {
    latency: { config: "latency", settleMs: 10_000, steadySecs: 120, steadyRate: 50, probeEveryMs: 3000 },
    defaults: {
      config: "defaults",
      settleMs: 15_000,
      steadySecs: 300,
      steadyRate: 50,
      probeEveryMs: 0,
      storm: { secs: 60, reschedule: 1000, updates: 10_000 },
    },
    spans: { steps: [2500, 5000, 10_000, 20_000, 40_000, 80_000], secs: 5 },
    otlp: { secs: 20, concurrency: 4 },
    ceilingEvents: 60_000,
    ddBytes: 1_000_000,
  },
}[profile] as {
  latency: ControllerProfile;
  defaults: ControllerProfile;
  spans: { steps: number[]; secs: number };
  otlp: { secs: number; concurrency: number };
  ceilingEvents: number;
  ddBytes: number;
};

function machine() {
  const sh = (c: string[]) => Bun.spawnSync(c).stdout.toString().trim();
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return {
    nproc: cpus().length,
    model: cpus()[0]?.model ?? "unknown",
    kernel: sh(["uname", "-r"]),
    bun: Bun.version,
    arch: process.arch,
    loadavgAtStart: load,
    note: `Load average at start ${load}: other work on this machine shares the cores, so CPU and latency figures include contention.`,
  };
}

const binary = join(ROOT, "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);
if (!existsSync(binary)) {
  log(`${binary} missing: building it (bun scripts/build.ts)`);
  const b = Bun.spawnSync([process.execPath, join(ROOT, "scripts", "build.ts")], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if (b.exitCode !== 0 || !existsSync(binary)) throw new Error("build failed");
}

const result: Record<string, any> = { profile, date: new Date().toISOString(), machine: machine(), binary: binary.replace(`${ROOT}/`, "") };
result.version = Bun.spawnSync([binary, "version"]).stdout.toString().trim().split("\n")[0];
const isRoot = process.getuid?.() === 0;
if (!isRoot) throw new Error("the bench creates cgroups and loads eBPF: run it as root");

removeStaleCgroups();
log("verifying that cgroup limits are enforced here");
result.enforcement = await verifyEnforcement();
log(`${result.enforcement.memoryDetail}; ${result.enforcement.cpuDetail}`);

// eBPF available? The agent preflight fails fast when not.
const agentOk = !skip.has("agent") && existsSync("/sys/kernel/btf/vmlinux");

log(`(a,c) latency run: ${P.latency.steadySecs} s at ${P.latency.steadyRate} ev/s, probes every ${P.latency.probeEveryMs} ms`);
result.latency = await runControllerBench(binary, P.latency, log);
log(`(a,b,c) defaults run: ${P.defaults.steadySecs} s steady, then the storm${agentOk ? ", agent in the same cgroup" : ""}`);
result.defaults = await runControllerBench(binary, { ...P.defaults, agent: agentOk }, log);

if (!skip.has("spans")) {
  log(`(d) span transport: ${P.spans.steps.join(", ")} spans/s, ${P.spans.secs} s each, publisher + bridge in the budget cgroup`);
  const cg = createCgroup(`neuro-bench-spans-${process.pid}`, 256 << 20);
  try {
    const r = await runSpanTransport({ ...P.spans, wrap: cg.wrap });
    result.spans = { ...r, sustainedLossless: r.maxLossless, oomKills: cg.oomKills(), throttled: cg.cpuThrottled() };
    log(`spans [target, achieved end to end, lost]: ${JSON.stringify(r.steps.map((s) => [s.rate, Math.round(s.achievedRate), s.lost]))}`);
  } finally {
    await Bun.sleep(200);
    cg.remove();
  }
}

if (!skip.has("otlp")) {
  log(`(f) OTLP intake: a real SDK export request replayed for ${P.otlp.secs} s, ${P.otlp.concurrency} in flight, controller in the budget cgroup`);
  const cg = createCgroup(`neuro-bench-otlp-${process.pid}`, 256 << 20);
  try {
    const r = await runOtlpIntake({ binary, ...P.otlp, wrap: cg.wrap });
    result.otlp = { ...r, cgroupMemoryPeakMiB: cg.memoryPeak() / 2 ** 20, oomKills: cg.oomKills(), throttled: cg.cpuThrottled() };
    log(`otlp: ${Math.round(r.spansPerSec)} spans/s decoded (${Math.round(r.entrySpansPerSec)} entry spans/s into the RED windows)`);
  } finally {
    await Bun.sleep(200);
    cg.remove();
  }
}

if (!skip.has("ceiling")) {
  log(`throughput ceiling on one core (${P.ceilingEvents} events)`);
  const pin = Bun.which("taskset") ? ["taskset", "-c", String(cpus().length - 1)] : [];
  const c = Bun.spawnSync([...pin, process.execPath, join(import.meta.dir, "ceiling.ts"), "--events", String(P.ceilingEvents)], {
    stderr: "inherit",
  });
  result.ceiling = JSON.parse(c.stdout.toString().trim().split("\n").at(-1) ?? "null");
  log(`ceiling: ${JSON.stringify(result.ceiling)}`);
  // Same core: the periodic evaluation tick vs a pass over every cached object, and what the caches hold.
  const last = (cmd: string[]) =>
    JSON.parse(
      Bun.spawnSync([...pin, process.execPath, ...cmd], { stderr: "inherit" })
        .stdout.toString()
        .trim()
        .split("\n")
        .at(-1) || "null",
    );
  result.evaluateCost = last([join(import.meta.dir, "evaluate-cost.ts")]);
  log(`evaluation tick: ${JSON.stringify(result.evaluateCost)}`);
  result.cacheMemory = last([join(import.meta.dir, "cache-memory.ts")]);
  log(`cache memory: ${JSON.stringify(result.cacheMemory)}`);
}

if (!skip.has("logging")) {
  log("logging: the old hand-written logger vs pino + ECS, 200,000 lines each in its own process");
  result.logging = runLoggingBench(200_000);
  log(`logging: ${JSON.stringify(result.logging)}`);
}
if (!skip.has("sse")) {
  log("status page: 5 live (SSE) clients vs none, at 50 ev/s with anomaly churn");
  const r = Bun.spawnSync(
    [process.execPath, join(import.meta.dir, "status-page-sse.ts"), "--binary", binary, "--secs", profile === "full" ? "60" : "30"],
    { stderr: "inherit" },
  );
  result.statusPageSse = JSON.parse(r.stdout.toString().trim().split("\n").at(-1) || "null");
  log(`status page SSE: ${JSON.stringify(result.statusPageSse)}`);
}

if (agentOk) {
  log(`(e) agent overhead: dd bs=1 count=${P.ddBytes}`);
  const a = Bun.spawnSync([process.execPath, join(import.meta.dir, "agent-overhead.ts"), "--bytes", String(P.ddBytes)], { stderr: "pipe" });
  const text = a.stdout.toString();
  const rows = [...text.matchAll(/^(no probe|probe[^\n]*?)\s{2,}(\d+)\s+(\S+)$/gm)].map((m) => ({
    case: m[1]!.trim(),
    ns: Number(m[2]),
    overhead: m[3],
  }));
  result.agentOverhead = a.exitCode === 0 ? { rows, text } : { skipped: `agent-overhead failed: ${a.stderr.toString().slice(-300)}` };
} else result.agentOverhead = { skipped: skip.has("agent") ? "skipped (--skip agent)" : "no BTF/eBPF on this machine" };

// (e) host health: the agent's snapshot collection at the default interval (no eBPF needed).
if (!skip.has("agent")) {
  log("(e) agent host-health collection cost");
  const h = Bun.spawnSync([process.execPath, join(import.meta.dir, "host-health-cost.ts")], { stderr: "pipe" });
  result.hostHealth =
    h.exitCode === 0 ? JSON.parse(h.stdout.toString().trim().split("\n").at(-1) ?? "null") : { skipped: h.stderr.toString().slice(-300) };
}

result.durationSecs = (Date.now() - started) / 1000;
const cs = checks(result);
result.checks = cs;
const md = markdown(result, cs);
const file = writeResults(join(import.meta.dir, "results"), result, md);
console.log("\n" + md);
log(`results: ${file.replace(`${ROOT}/`, "")}, bench/results/latest.md (publish it in docs/benchmarks.md with: npm run docs)`);
process.exit(cs.some((c) => c.pass === false) ? 1 : 0);
