// Syscall number → name for the architecture the agent runs on (numbers differ: read is 0 on
// x86_64 and 63 on arm64), so spans name syscalls correctly on both Pis and PCs.
import { SYSCALLS_AARCH64 } from "./aarch64.ts";
import { SYSCALLS_X86_64 } from "./x86_64.ts";

export type Arch = "x86_64" | "aarch64";

export function hostArch(): Arch {
  return process.arch === "arm64" ? "aarch64" : "x86_64";
}

export function syscallTable(arch: Arch = hostArch()): readonly string[] {
  return arch === "aarch64" ? SYSCALLS_AARCH64 : SYSCALLS_X86_64;
}

export function syscallName(nr: number, arch: Arch = hostArch()): string {
  return syscallTable(arch)[nr] || `syscall_${nr}`;
}

export function syscallNumber(name: string, arch: Arch = hostArch()): number | undefined {
  const i = syscallTable(arch).indexOf(name);
  return i < 0 ? undefined : i;
}
