// How loaded the machine is while a figure is measured: the 1-minute load average (/proc/loadavg)
// per core and CPU steal (time a hypervisor gave our virtual CPUs to someone else, /proc/stat). The
// bench records both before and during every measured phase and, above the thresholds, prints
// "machine too loaded to trust" next to a figure instead of presenting it bare.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

export interface LoadSample {
  t: number;
  load1: number;
  /** Share of all CPU time stolen since the previous sample, in percent. */
  stealPct: number;
  /** Share of all CPU time not idle since the previous sample (everything, the bench included), in percent. */
  busyPct: number;
}

export interface LoadVerdict {
  before: { load1: number; stealPct: number };
  during: { load1Max: number; load1Median: number; stealPctAvg: number; busyPctAvg: number };
  nproc: number;
  tooLoaded: boolean;
  reason?: string;
}

/** Defaults: load per core above 1.5 (the bench itself adds ~1 on this machine) or steal above 5 %. */
export const LOAD_THRESHOLDS = {
  loadPerCore: Number(process.env.BENCH_MAX_LOAD_PER_CORE ?? 1.5),
  stealPct: Number(process.env.BENCH_MAX_STEAL_PCT ?? 5),
};

function cpuTimes(): { total: number; idle: number; steal: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is already in user)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: f[3]! + f[4]!, steal: f[7] ?? 0 };
}
const load1 = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

export class LoadMonitor {
  readonly samples: LoadSample[] = [];
  readonly nproc = cpus().length;
  private timer?: ReturnType<typeof setInterval>;
  private last = cpuTimes();

  start(intervalMs = 1000): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref?.();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): LoadSample {
    const now = cpuTimes();
    const dt = Math.max(1, now.total - this.last.total);
    const s = {
      t: Date.now(),
      load1: load1(),
      stealPct: (100 * (now.steal - this.last.steal)) / dt,
      busyPct: (100 * (dt - (now.idle - this.last.idle))) / dt,
    };
    this.last = now;
    this.samples.push(s);
    return s;
  }

  /** The verdict for the phase [from, to] (ms since epoch): the sample just before it and those inside. */
  verdict(from: number, to = Date.now()): LoadVerdict {
    const before = [...this.samples].reverse().find((s) => s.t <= from) ?? this.samples[0] ?? this.sample();
    const inside = this.samples.filter((s) => s.t > from && s.t <= to);
    const xs = inside.length ? inside : [before];
    const loads = xs.map((s) => s.load1).sort((a, b) => a - b);
    const avg = (k: "stealPct" | "busyPct") => xs.reduce((a, s) => a + s[k], 0) / xs.length;
    const during = { load1Max: loads.at(-1)!, load1Median: loads[loads.length >> 1]!, stealPctAvg: avg("stealPct"), busyPctAvg: avg("busyPct") };
    const limit = LOAD_THRESHOLDS.loadPerCore * this.nproc;
    const reasons: string[] = [];
    if (during.load1Median > limit) reasons.push(`load ${during.load1Median.toFixed(1)} > ${limit.toFixed(1)} (${LOAD_THRESHOLDS.loadPerCore}/core)`);
    if (during.stealPctAvg > LOAD_THRESHOLDS.stealPct) reasons.push(`steal ${during.stealPctAvg.toFixed(1)} % > ${LOAD_THRESHOLDS.stealPct} %`);
    return {
      before: { load1: before.load1, stealPct: before.stealPct },
      during,
      nproc: this.nproc,
      tooLoaded: reasons.length > 0,
      reason: reasons.join(", ") || undefined,
    };
  }
}

/** Short text for a table cell: "" when the figure can be trusted. */
export function loadNote(v: LoadVerdict | undefined): string {
  return v?.tooLoaded ? ` — machine too loaded to trust (${v.reason})` : "";
}
