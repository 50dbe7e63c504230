// A quick A/B of the compiled controller in the budget cgroup (256 MiB, 20 ms/100 ms CPU), without the
// full bench: the defaults run's settings, 100 nodes / 3,000 pods, idle then `--rate` events/s.
//   bun bench/experiment.ts [--binary dist/neurocontroller-linux-x64] [--secs 60] [--rate 50] [--idle 30] [--probe-every MS] [--env K=V,...]
// --probe-every puts a fresh pod into CrashLoopBackOff every MS (healed 3 s later): anomaly churn on top.
// Prints one JSON line: CPU avg/p99 and RSS (max, end; anon vs file-backed) for the idle and load phases.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCgroup } from "./lib/cgroup.ts";
import { BENCH_ENV } from "./lib/controller-bench.ts";
import { Driver } from "./lib/fixtures.ts";
import { max, mean, ProcSampler, quantile } from "./lib/sampler.ts";
import { threadMillicores, threadTicks } from "./lib/threads.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const binary = arg("binary", join(import.meta.dir, "..", "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`));
const secs = Number(arg("secs", "60"));
const rate = Number(arg("rate", "50"));
const idleSecs = Number(arg("idle", "30"));
const probeEveryMs = Number(arg("probe-every", "0"));
const extra = Object.fromEntries(
  arg("env", "")
    .split(",")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);

function smaps(pid: number): { anonMiB: number; fileMiB: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? 0) / 1024;
    return { anonMiB: +kb("Anonymous").toFixed(1), fileMiB: +(kb("Rss") - kb("Anonymous")).toFixed(1) };
  } catch {
    return { anonMiB: NaN, fileMiB: NaN };
  }
}

const work = mkdtempSync(join(tmpdir(), "neuro-exp-"));
const { driver, ready } = await Driver.start(["--dir", join(work, "sim"), "--nodes", "100", "--deployments", "300", "--replicas", "10"]);
const cg = createCgroup(`neuro-exp-${process.pid}`, 256 << 20);
const env = {
  ...process.env,
  ...BENCH_ENV,
  NEURO_LOG_DIR: join(work, "log"),
  NEURO_STATE_DIR: join(work, "state"),
  NEURO_HTTP_ADDR: "127.0.0.1:0",
  ...extra,
};
const proc = Bun.spawn(cg.wrap([binary, "controller", "--kubeconfig", ready.kubeconfig]), { env, stdout: "ignore", stderr: "inherit" });
const sampler = new ProcSampler(proc.pid).start();
const phase = (name: string, skip = 3) => {
  const s = sampler.of(name, skip);
  return {
    cpuAvgM: +mean(s.map((x) => x.cpuM)).toFixed(1),
    cpuP99M: +quantile(
      s.map((x) => x.cpuM),
      0.99,
    ).toFixed(0),
    rssMaxMiB: +max(s.map((x) => x.rssMiB)).toFixed(1),
    rssEndMiB: +(s.at(-1)?.rssMiB ?? NaN).toFixed(1),
  };
};
try {
  await Bun.sleep(10_000); // list + settle
  sampler.phase = "idle";
  const t0 = threadTicks(proc.pid);
  await Bun.sleep(idleSecs * 1000);
  const t1 = threadTicks(proc.pid);
  const idleSmaps = smaps(proc.pid);
  sampler.phase = "load";
  const started = Date.now();
  driver.send({ cmd: "steady", secs, rate, probeEveryMs });
  await driver.wait("steady-end", (secs + 60) * 1000);
  const t2 = threadTicks(proc.pid);
  const loadSmaps = smaps(proc.pid);
  console.log(
    JSON.stringify({
      env: extra,
      probeEveryMs,
      load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
      idle: { ...phase("idle"), ...idleSmaps, threads: threadMillicores(t0, t1, idleSecs) },
      [`${rate}evs`]: { ...phase("load"), ...loadSmaps, threads: threadMillicores(t1, t2, (Date.now() - started) / 1000) },
      hwmMiB: max(sampler.samples.map((s) => s.hwmMiB)),
    }),
  );
} finally {
  sampler.stop();
  proc.kill("SIGTERM");
  await proc.exited;
  await driver.stop();
  cg.remove();
  rmSync(work, { recursive: true, force: true });
}
