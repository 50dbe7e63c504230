// A child cgroup with the appliance budget (memory 256 MiB, CPU 20 ms per 100 ms), on cgroup v2 or
// v1 — whichever this machine mounts — plus a check that the limits are actually enforced here.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";
const read = (p: string) => {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return "";
  }
};

export interface BenchCgroup {
  version: "v1" | "v2";
  dirs: string[];
  /** Command prefix that moves the shell into the cgroup, then execs argv (so the pid is inside from its first instruction). */
  wrap(argv: string[]): string[];
  memoryPeak(): number;
  oomKills(): number;
  cpuThrottled(): { periods: number; throttled: number };
  remove(): void;
}

export function cgroupVersion(): "v1" | "v2" | "none" {
  const t = Bun.spawnSync(["stat", "-fc", "%T", ROOT]).stdout.toString().trim();
  if (t === "cgroup2fs") return "v2";
  if (existsSync(join(ROOT, "memory")) && existsSync(join(ROOT, "cpu"))) return "v1";
  return "none";
}

/** Removes empty neuro-bench-* cgroups an interrupted run left behind (rmdir refuses non-empty ones). */
export function removeStaleCgroups(): void {
  for (const h of ["", "memory", "cpu"]) {
    const dir = join(ROOT, h);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir)) {
      if (!d.startsWith("neuro-bench-")) continue;
      try {
        rmdirSync(join(dir, d));
      } catch {
        /* still in use */
      }
    }
  }
}

export function createCgroup(name: string, memBytes: number, quotaUs = 20_000, periodUs = 100_000): BenchCgroup {
  const v = cgroupVersion();
  if (v === "none") throw new Error("no cgroup hierarchy found");
  if (v === "v2") {
    // Controllers must be enabled in the parent's subtree_control for the child to get the files.
    const sub = join(ROOT, "cgroup.subtree_control");
    for (const c of ["memory", "cpu"]) if (!read(sub).split(" ").includes(c)) writeFileSync(sub, `+${c}`);
    const dir = join(ROOT, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "memory.max"), String(memBytes));
    if (existsSync(join(dir, "memory.swap.max"))) writeFileSync(join(dir, "memory.swap.max"), "0");
    writeFileSync(join(dir, "cpu.max"), `${quotaUs} ${periodUs}`);
    const ev = (k: string) => Number(new RegExp(`(?:^|\\n)${k} (\\d+)`).exec(read(join(dir, "memory.events")))?.[1] ?? 0);
    const stat = (k: string) => Number(new RegExp(`${k} (\\d+)`).exec(read(join(dir, "cpu.stat")))?.[1] ?? 0);
    return {
      version: v,
      dirs: [dir],
      wrap: (argv) => ["sh", "-c", `echo $$ > ${dir}/cgroup.procs && exec "$@"`, "sh", ...argv],
      memoryPeak: () => Number(read(join(dir, "memory.peak")) || 0),
      oomKills: () => ev("oom_kill"),
      cpuThrottled: () => ({ periods: stat("nr_periods"), throttled: stat("nr_throttled") }),
      remove: () => rmdirSync(dir),
    };
  }
  const mem = join(ROOT, "memory", name);
  const cpu = join(ROOT, "cpu", name);
  mkdirSync(mem, { recursive: true });
  mkdirSync(cpu, { recursive: true });
  writeFileSync(join(mem, "memory.limit_in_bytes"), String(memBytes));
  if (existsSync(join(mem, "memory.memsw.limit_in_bytes"))) {
    try {
      writeFileSync(join(mem, "memory.memsw.limit_in_bytes"), String(memBytes)); // no swap escape
    } catch {
      /* swap accounting off */
    }
  }
  writeFileSync(join(cpu, "cpu.cfs_period_us"), String(periodUs));
  writeFileSync(join(cpu, "cpu.cfs_quota_us"), String(quotaUs));
  const stat = (k: string) => Number(new RegExp(`${k} (\\d+)`).exec(read(join(cpu, "cpu.stat")))?.[1] ?? 0);
  return {
    version: v,
    dirs: [mem, cpu],
    wrap: (argv) => ["sh", "-c", `echo $$ > ${mem}/cgroup.procs && echo $$ > ${cpu}/cgroup.procs && exec "$@"`, "sh", ...argv],
    memoryPeak: () => Number(read(join(mem, "memory.max_usage_in_bytes")) || 0),
    oomKills: () => Number(/oom_kill (\d+)/.exec(read(join(mem, "memory.oom_control")))?.[1] ?? 0),
    cpuThrottled: () => ({ periods: stat("nr_periods"), throttled: stat("nr_throttled") }),
    remove: () => {
      for (const d of [mem, cpu]) {
        try {
          rmdirSync(d);
        } catch {
          /* still has a process: leave it */
        }
      }
    },
  };
}

export interface Enforcement {
  version: string;
  memoryEnforced: boolean;
  memoryDetail: string;
  cpuEnforced: boolean;
  cpuDetail: string;
}

/** Allocates 300 MB under a 64 MiB limit and spins 2 s under 20 ms/100 ms: are they killed / throttled? */
export async function verifyEnforcement(): Promise<Enforcement> {
  const cg = createCgroup(`neuro-bench-verify-${process.pid}`, 64 << 20);
  try {
    const alloc = Bun.spawn(
      cg.wrap([process.execPath, "-e", "const a=[];for(let i=0;i<300;i++)a.push(Buffer.alloc(1<<20,1));console.log('allocated 300MB')"]),
      { stdout: "pipe", stderr: "pipe" },
    );
    const code = await alloc.exited;
    const out = (await new Response(alloc.stdout).text()).trim();
    const memoryEnforced = code !== 0 && !out.includes("allocated");
    const memoryDetail = `300 MB allocation under a 64 MiB limit: exit ${code}${alloc.signalCode ? ` (${alloc.signalCode})` : ""}, oom_kill=${cg.oomKills()}, peak ${(cg.memoryPeak() / 1048576).toFixed(0)} MiB`;
    const spin = Bun.spawn(cg.wrap(["sh", "-c", "t=$(($(date +%s)+2)); while [ $(date +%s) -lt $t ]; do :; done"]));
    const t0 = performance.now();
    await spin.exited;
    const wall = (performance.now() - t0) / 1000;
    const { periods, throttled } = cg.cpuThrottled();
    const ru = spin.resourceUsage();
    const cpuSecs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1e6 : NaN;
    const share = cpuSecs / wall;
    const cpuEnforced = share < 0.3 && throttled > 0;
    const cpuDetail = `busy loop for ${wall.toFixed(1)} s got ${(share * 1000).toFixed(0)}m CPU (quota 200m), throttled ${throttled}/${periods} periods`;
    return { version: cg.version, memoryEnforced, memoryDetail, cpuEnforced, cpuDetail };
  } finally {
    await Bun.sleep(100);
    cg.remove();
  }
}

if (import.meta.main) console.log(await verifyEnforcement());
