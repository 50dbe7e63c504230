// Syscall number → name for the architecture the agent runs on (numbers differ: read is 0 on
// x86_64 and 63 on arm64), so spans name syscalls correctly on both Pis and PCs. Numbers from 424
// up are the same on every architecture (Linux 5.1+) and come from one shared table. The tables are
// generated data (bun agent/syscalls/generate.ts), embedded in the binary like any JSON import.
import AARCH64 from "./aarch64.json";
import UNIFIED from "./unified.json";
import X86_64 from "./x86_64.json";

export type Arch = "x86_64" | "aarch64";

export function hostArch(): Arch {
  return process.arch === "arm64" ? "aarch64" : "x86_64";
}

const tables = new Map<Arch, readonly string[]>();

/** Names indexed by number ("" = unassigned): the architecture's own numbers, then the unified ones. */
export function syscallTable(arch: Arch = hostArch()): readonly string[] {
  let t = tables.get(arch);
  if (!t) {
    const own = (arch === "aarch64" ? AARCH64 : X86_64).names;
    t = Array.from({ length: UNIFIED.first + UNIFIED.names.length }, (_, nr) =>
      nr < UNIFIED.first ? (own[nr] ?? "") : UNIFIED.names[nr - UNIFIED.first]!,
    );
    tables.set(arch, t);
  }
  return t;
}

export function syscallName(nr: number, arch: Arch = hostArch()): string {
  return syscallTable(arch)[nr] || `syscall_${nr}`;
}

export function syscallNumber(name: string, arch: Arch = hostArch()): number | undefined {
  const i = name ? syscallTable(arch).indexOf(name) : -1;
  return i < 0 ? undefined : i;
}
