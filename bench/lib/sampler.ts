// Samples a process once a second from /proc: RSS (VmRSS), high-water mark (VmHWM) and CPU
// (utime+stime deltas → millicores). Phases are marked so figures can be cut per workload.
import { readFileSync } from "node:fs";
import { combined, smapsRollup } from "./memory.ts";

const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

export interface Sample {
  t: number;
  phase: string;
  rssMiB: number;
  hwmMiB: number;
  /** CPU used since the previous sample, in millicores (1000 = one full core). */
  cpuM: number;
  /** PSS of this process (smaps_rollup), and its anonymous memory. */
  pssMiB: number;
  anonMiB: number;
  /** This process + `partners` (e.g. the agent in the same cgroup), read in the same sample: PSS adds up, RSS does not. */
  combinedPssMiB: number;
  combinedPssAnonMiB: number;
  combinedAnonMiB: number;
  combinedRssMiB: number;
}

function readProc(pid: number): { rss: number; hwm: number; ticks: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" of comm: state is field 3; utime/stime are fields 14/15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

export class ProcSampler {
  readonly samples: Sample[] = [];
  phase = "cold";
  private timer?: ReturnType<typeof setInterval>;
  private last?: { t: number; ticks: number };
  /** Processes whose memory is added to this one's in every sample (same cgroup, sampled back to back). */
  partners: number[] = [];

  constructor(
    readonly pid: number,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): Sample | undefined {
    const p = readProc(this.pid);
    if (!p) return undefined;
    const t = performance.now();
    const cpuM = this.last ? (((p.ticks - this.last.ticks) / CLK_TCK) * 1000) / ((t - this.last.t) / 1000) : 0;
    this.last = { t, ticks: p.ticks };
    const own = smapsRollup(this.pid);
    const all = combined([this.pid, ...this.partners]);
    const s = {
      t: Date.now(),
      phase: this.phase,
      rssMiB: p.rss,
      hwmMiB: p.hwm,
      cpuM,
      pssMiB: own?.pssMiB ?? Number.NaN,
      anonMiB: own?.anonMiB ?? Number.NaN,
      combinedPssMiB: all?.pssMiB ?? Number.NaN,
      combinedPssAnonMiB: all?.pssAnonMiB ?? Number.NaN,
      combinedAnonMiB: all?.anonMiB ?? Number.NaN,
      combinedRssMiB: all?.rssMiB ?? Number.NaN,
    };
    this.samples.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  of(phase: string, skipFirst = 0): Sample[] {
    return this.samples.filter((s) => s.phase === phase).slice(skipFirst);
  }
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const max = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? Math.max(...v) : NaN;
};
