// Shared by the eBPF tests: whether eBPF can run here (skip reason otherwise), and a child process
// doing known syscalls on cue.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { hasBpfPrivileges, ensureTracefs } from "../../agent/preflight.ts";

/** Undefined when real eBPF is usable; otherwise why not (printed, then the test is skipped). */
export function ebpfUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (!hasBpfPrivileges()) return "not root / no CAP_BPF+CAP_PERFMON";
  if (!existsSync("/proc/sys/kernel/unprivileged_bpf_disabled")) return "kernel without the bpf() syscall";
  if (!ensureTracefs(true)) return "tracefs cannot be mounted";
  return undefined;
}

export const PYTHON =
  ["/usr/bin/python3", "/usr/local/bin/python3"].find(existsSync) ??
  (spawnSync("sh", ["-c", "command -v python3"]).stdout?.toString().trim() || "python3");

/**
 * Waits for a line on stdin, then: forks a writer that sleeps `delayMs` and writes to a pipe, reads that
 * pipe (a read blocked ~delayMs), nanosleeps `sleepMs`, prints "done" and waits for another line.
 */
export function syscallChild(delayMs: number, sleepMs: number) {
  const code = `
import os, sys, time
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
r, w = os.pipe()
if os.fork() == 0:
    time.sleep(${delayMs / 1000}); os.write(w, b"x"); os._exit(0)
os.read(r, 1)
os.wait()
time.sleep(${sleepMs / 1000})
sys.stdout.write("done\\n"); sys.stdout.flush()
sys.stdin.readline()
`;
  const proc = Bun.spawn([PYTHON, "-c", code], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  let out = "";
  void (async () => {
    for await (const c of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(c);
  })();
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    go() {
      proc.stdin.write("go\n");
      proc.stdin.flush();
    },
  };
}
