// CPU per thread of a process, from /proc/<pid>/task/*/stat: which of Bun's threads (the JS thread,
// the HTTP client thread, JIT compiler and GC helper threads) use the CPU. Names are the threads' comm.
import { readdirSync, readFileSync } from "node:fs";

export type ThreadTicks = Map<string, number>;

/** utime+stime ticks per thread name (threads with the same name are summed). */
export function threadTicks(pid: number): ThreadTicks {
  const out: ThreadTicks = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch {
      /* thread exited */
    }
  }
  return out;
}

/** Millicores per thread name between two snapshots `secs` apart (CLK_TCK 100), busiest first. */
export function threadMillicores(a: ThreadTicks, b: ThreadTicks, secs: number, clkTck = 100): Record<string, number> {
  const rows: [string, number][] = [];
  for (const [name, t] of b) rows.push([name, +((((t - (a.get(name) ?? 0)) / clkTck) * 1000) / secs).toFixed(1)]);
  return Object.fromEntries(rows.filter(([, m]) => m > 0).sort((x, y) => y[1] - x[1]));
}
