// Checks, before touching bpf(), everything that commonly stops the agent, so the operator gets
// one sentence naming the missing piece (capability, file, mount) instead of an EPERM.
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { AgentEnvironmentError, errnoName } from "./libbpf.ts";

export const TRACEFS_DIRS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capability set of this process (from /proc/self/status). */
export function effectiveCaps(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasBpfPrivileges(caps = effectiveCaps()): boolean {
  const has = (c: bigint) => ((caps >> c) & 1n) === 1n;
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}

/** The names of the capabilities the agent needs and `caps` lacks (empty when it may trace). */
export function missingBpfCaps(caps = effectiveCaps()): string[] {
  if (hasBpfPrivileges(caps)) return [];
  const has = (c: bigint) => ((caps >> c) & 1n) === 1n;
  return [has(CAP_BPF) ? "" : "CAP_BPF", has(CAP_PERFMON) ? "" : "CAP_PERFMON"].filter(Boolean);
}

export const PRIVILEGE_HELP =
  "the eBPF agent needs CAP_BPF and CAP_PERFMON (kernel >= 5.8; CAP_SYS_ADMIN on older kernels): run it as root, " +
  "or under systemd with AmbientCapabilities=CAP_BPF CAP_PERFMON (see systemd/neurocontroller-agent.service), " +
  "or in Kubernetes as a privileged DaemonSet";

export const TRACEFS_HELP =
  "tracefs is not mounted, so the raw_syscalls tracepoints cannot be attached: mount it with " +
  "'mount -t tracefs nodev /sys/kernel/tracing' (or add 'tracefs /sys/kernel/tracing tracefs defaults 0 0' to /etc/fstab)";

/** The mounted tracefs directory holding events/raw_syscalls, if any. */
export function tracefsDir(): string | undefined {
  return TRACEFS_DIRS.find((d) => existsSync(`${d}/events/raw_syscalls/sys_enter`));
}

/** Mounts tracefs when we may (root) and it is missing; returns the directory or undefined. */
export function ensureTracefs(tryMount: boolean): string | undefined {
  const dir = tracefsDir();
  if (dir || !tryMount) return dir;
  spawnSync("mount", ["-t", "tracefs", "nodev", "/sys/kernel/tracing"], { stdio: "ignore" });
  return tracefsDir();
}

export interface PreflightOptions {
  mountTracefs?: boolean;
}

/** Throws AgentEnvironmentError with the first blocking problem. */
export function preflight(opts: PreflightOptions = {}): { tracefs: string } {
  if (process.platform !== "linux") throw new AgentEnvironmentError(`the eBPF agent runs on Linux only (this is ${process.platform})`);
  if (!existsSync("/proc/self/status")) throw new AgentEnvironmentError("/proc is not mounted");
  const missing = missingBpfCaps();
  if (missing.length) throw new AgentEnvironmentError(`this process (uid ${process.getuid?.()}) lacks ${missing.join(" and ")}: ${PRIVILEGE_HELP}`);
  const tracefs = ensureTracefs(opts.mountTracefs ?? false);
  if (!tracefs) {
    const noEvents = TRACEFS_DIRS.some((d) => existsSync(`${d}/events`));
    throw new AgentEnvironmentError(noEvents ? "the kernel has no raw_syscalls tracepoints (CONFIG_FTRACE_SYSCALLS is off)" : TRACEFS_HELP);
  }
  return { tracefs };
}

/** Turns a libbpf error code from open/load/attach into an actionable message. */
export function explainBpfError(step: string, code: number, detail = ""): AgentEnvironmentError {
  const n = Math.abs(code);
  let why = "";
  if (n === 1 || n === 13)
    why = hasBpfPrivileges()
      ? "the kernel refused it (the verifier rejected a program: see libbpf's log above; or kernel lockdown, or a security module denies bpf())"
      : PRIVILEGE_HELP;
  else if (n === 38) why = "this kernel has no bpf() system call (CONFIG_BPF_SYSCALL off, or running under qemu-user, which does not emulate bpf())";
  else if (n === 22 || n === 95) why = "the kernel does not support what the program needs (BPF ring buffer: kernel >= 5.8)";
  else if (n === 2) why = tracefsDir() ? "a tracepoint or file is missing" : TRACEFS_HELP;
  return new AgentEnvironmentError(`eBPF ${step} failed (${errnoName(code)}${detail ? `: ${detail}` : ""})${why ? `: ${why}` : ""}`);
}
