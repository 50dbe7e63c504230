// Cold start and list-time memory, A/B: one simulated cluster (seeded once: 30k pods take minutes), then
// each binary in turn, interleaved round by round, spawned in the budget cgroup (CPU 20 ms/100 ms; memory
// 256 MiB, or --memory) → /readyz 200 (every informer listed; the bench's definition of cold start). Per run:
// ready ms, the controller's CPU until ready (utime+stime, all threads: far less noisy than wall time on a
// shared machine), then PSS / anonymous memory (max over --settle s of idle, and over --steady s at 50 ev/s).
//   bun bench/cold-start.ts [--binaries A,B] [--nodes 100] [--rounds 3] [--settle 6] [--steady 0] [--memory 256] [--kubeconfig K]
// A "binary" may be a command with arguments separated by '+' (e.g. bun+src/main.ts) to run from source.
// Prints one line per run and, at the end, medians with min–max per binary. Needs root (cgroups).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCgroup } from "./lib/cgroup.ts";
import { BENCH_ENV } from "./lib/controller-bench.ts";
import { Driver } from "./lib/fixtures.ts";
import { smapsRollup } from "./lib/memory.ts";
import { quantile } from "./lib/sampler.ts";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const host = join(import.meta.dir, "..", "dist", `neurocontroller-linux-${process.arch === "arm64" ? "arm64" : "x64"}`);
const binaries = arg("binaries", host).split(",");
const nodes = Number(arg("nodes", "100"));
const rounds = Number(arg("rounds", "3"));
const settleSecs = Number(arg("settle", "6"));
const steadySecs = Number(arg("steady", "0"));
const memoryMiB = Number(arg("memory", nodes > 300 ? "1024" : "256"));

const MS_PER_TICK = 10; // USER_HZ = 100
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) * MS_PER_TICK;
  } catch {
    return Number.NaN;
  }
}
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const work = mkdtempSync(join(tmpdir(), "neuro-cold-"));
const seedStart = Date.now();
// --kubeconfig: a simulator already running (e.g. `bun bench/load-driver.ts` kept open), so a 30k-pod cluster is seeded once per session.
const given = arg("kubeconfig", "");
const { driver, ready } = given
  ? { driver: undefined, ready: { kubeconfig: given, nodes: "?", pods: "?", objects: "?" } as Record<string, any> }
  : await Driver.start(
      ["--dir", join(work, "sim"), "--nodes", String(nodes), "--deployments", String(nodes * 3), "--replicas", "10"],
      120_000 + nodes * 600,
    );
console.log(
  `simulator: ${ready.nodes} nodes, ${ready.pods} pods, ${ready.objects} objects (seeded in ${((Date.now() - seedStart) / 1000).toFixed(0)} s)`,
);

interface Run {
  readyMs: number;
  cpuToReadyMs: number;
  idlePssMiB: number;
  idleAnonMiB: number;
  /** PSS at the end of the settle time (after the start-up's peak). */
  settledPssMiB: number;
  steadyPssMiB?: number;
  steadyAnonMiB?: number;
}
const results = new Map<string, Run[]>(binaries.map((b) => [b, []]));

async function once(binary: string, round: number): Promise<Run> {
  const dir = join(work, `run-${round}-${binaries.indexOf(binary)}`);
  const port = 20000 + ((process.pid + round * 7 + binaries.indexOf(binary)) % 20000);
  const env = {
    ...process.env,
    ...BENCH_ENV,
    NEURO_LOG_DIR: join(dir, "log"),
    NEURO_STATE_DIR: join(dir, "state"),
    NEURO_HTTP_ADDR: `127.0.0.1:${port}`,
  };
  const cg = createCgroup(`neuro-bench-cold-${process.pid}`, memoryMiB << 20);
  const t0 = Date.now();
  const proc = Bun.spawn(cg.wrap([...binary.split("+"), "controller", "--kubeconfig", ready.kubeconfig]), { env, stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) stderr = (stderr + new TextDecoder().decode(c)).slice(-4000);
  })();
  try {
    let readyAt = 0;
    while (!readyAt && Date.now() - t0 < 120_000 + nodes * 120 && proc.exitCode === null) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) readyAt = Date.now();
      } catch {
        /* not listening yet */
      }
      if (!readyAt) await Bun.sleep(50);
    }
    if (!readyAt) throw new Error(`never ready (exit ${proc.exitCode}): ${stderr}`);
    const cpuToReadyMs = cpuMs(proc.pid);
    const peak = (secs: number) => async () => {
      let pss = 0;
      let anon = 0;
      let last = 0;
      for (const end = Date.now() + secs * 1000; Date.now() < end; await Bun.sleep(250)) {
        const m = smapsRollup(proc.pid);
        if (m) (pss = Math.max(pss, m.pssMiB)), (anon = Math.max(anon, m.anonMiB)), (last = m.pssMiB);
      }
      return { pss, anon, last };
    };
    const idle = await peak(settleSecs)();
    const run: Run = { readyMs: readyAt - t0, cpuToReadyMs, idlePssMiB: idle.pss, idleAnonMiB: idle.anon, settledPssMiB: idle.last };
    if (steadySecs > 0 && driver) {
      const ended = driver.wait("steady-end", (steadySecs + 60) * 1000); // before the command: the event may come first
      driver.send({ cmd: "steady", secs: steadySecs, rate: 50, probeEveryMs: 0 });
      const s = await peak(steadySecs)();
      await ended;
      run.steadyPssMiB = s.pss;
      run.steadyAnonMiB = s.anon;
    }
    return run;
  } finally {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(10_000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await proc.exited;
    cg.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));
try {
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so neither binary always runs first after the simulator settles.
    const order = round % 2 ? [...binaries].reverse() : binaries;
    for (const b of order) {
      const r = await once(b, round);
      results.get(b)!.push(r);
      console.log(
        `round ${round + 1} ${b}: ready ${r.readyMs} ms, CPU to ready ${r.cpuToReadyMs} ms, idle PSS ${f(r.idlePssMiB)} / anon ${f(r.idleAnonMiB)} MiB, settled PSS ${f(r.settledPssMiB)} MiB` +
          (r.steadyPssMiB !== undefined ? `, steady PSS ${f(r.steadyPssMiB)} / anon ${f(r.steadyAnonMiB)} MiB` : "") +
          ` (load ${loadavg()})`,
      );
    }
  }
  const med = (xs: number[]) => `${quantile(xs, 0.5).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  for (const [b, rs] of results) {
    const pick = (k: keyof Run) => rs.map((r) => r[k]).filter((x): x is number => x !== undefined);
    console.log(
      `${b}: n=${rs.length} ready ${med(pick("readyMs"))} ms, CPU to ready ${med(pick("cpuToReadyMs"))} ms, idle PSS ${med(pick("idlePssMiB"))} MiB, anon ${med(pick("idleAnonMiB"))} MiB, settled PSS ${med(pick("settledPssMiB"))} MiB` +
        (steadySecs > 0 ? `, steady PSS ${med(pick("steadyPssMiB"))} MiB, anon ${med(pick("steadyAnonMiB"))} MiB` : ""),
    );
  }
} finally {
  await driver?.stop();
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
