// Honest memory: PSS from /proc/<pid>/smaps_rollup. RSS counts every page a process maps, so two
// processes mapping the same ~100 MB binary (controller + agent) count it twice; PSS divides each
// shared page among the processes that map it, so the PSS of both added up is what they really take.
// Anonymous memory (heap, stacks) is the part that grows with the work; file-backed pages of the
// binary can be dropped and re-read by the kernel under pressure.
import { readFileSync } from "node:fs";

export interface MemoryFigures {
  rssMiB: number;
  pssMiB: number;
  pssAnonMiB: number;
  pssFileMiB: number;
  /** Anonymous pages mapped (private heap, stacks, JIT): not shared with anyone here. */
  anonMiB: number;
}

const MiB = (kb: number) => kb / 1024;

/** null when the process is gone or smaps_rollup is unavailable (kernels before 4.14). */
export function smapsRollup(pid: number): MemoryFigures | null {
  let t: string;
  try {
    t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    return null;
  }
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? Number.NaN);
  return {
    rssMiB: MiB(kb("Rss")),
    pssMiB: MiB(kb("Pss")),
    pssAnonMiB: MiB(kb("Pss_Anon")),
    pssFileMiB: MiB(kb("Pss_File")),
    anonMiB: MiB(kb("Anonymous")),
  };
}

/** The figures of several processes read back to back (one sample), summed. PSS sums are exact; RSS sums double-count. */
export function combined(pids: number[]): (MemoryFigures & { n: number }) | null {
  const xs = pids.map(smapsRollup).filter((x): x is MemoryFigures => x !== null);
  if (!xs.length) return null;
  const sum = (k: keyof MemoryFigures) => xs.reduce((a, x) => a + x[k], 0);
  return {
    rssMiB: sum("rssMiB"),
    pssMiB: sum("pssMiB"),
    pssAnonMiB: sum("pssAnonMiB"),
    pssFileMiB: sum("pssFileMiB"),
    anonMiB: sum("anonMiB"),
    n: xs.length,
  };
}
