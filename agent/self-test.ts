// `neurocontroller agent --self-test`: proves, on this node, that the agent can trace — the same
// preflight, object, attach and trace-pool path as the daemon, without MQTT. It loads the shipped
// object with libbpf's kernel-BTF lookup pointed at a nonexistent file (so kernel BTF is provably not
// needed), binds a shell it starts, lets it run a known syscall (sleep → clock_nanosleep) itself and in a
// forked child (in-kernel inheritance), reads the per-(thread, syscall) totals, unbinds and detaches.
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { release } from "node:os";
import type { Subprocess } from "bun";
import { AgentEnvironmentError, libbpfInfo } from "./libbpf.ts";
import { SyscallProbe, type AggRecord } from "./loader.ts";
import { TracePool } from "./pool.ts";
import { preflight } from "./preflight.ts";
import { hostArch, syscallName } from "./syscalls/index.ts";

/** Where libbpf is told the kernel BTF is: must not exist. */
export const NO_BTF_PATH = "/nonexistent/neurocontroller-self-test/vmlinux.btf";
const KERNEL_BTF = "/sys/kernel/btf/vmlinux";
/** glibc's sleep(1) ends in clock_nanosleep; older libcs call nanosleep. */
const SLEEP_SYSCALLS = new Set(["clock_nanosleep", "nanosleep", "clock_nanosleep_time64"]);

export interface Observed {
  syscall: string;
  count: number;
  totalMs: number;
}

export interface SelfTestReport {
  arch: string;
  kernel: string;
  /** The bound process's own sleep (exec'd into the bound pid). */
  direct: Observed;
  /** The sleep of a child the bound process forked (inherited binding). */
  inherited: Observed;
  lines: string[];
}

export interface SelfTestOptions {
  /** Length of the bound process's own sleep (the child's is a third of it). */
  sleepMs?: number;
  log?: (line: string) => void;
}

export class SelfTestFailure extends Error {}

/** File descriptors of BPF objects and perf events this process holds (all must be gone after detach). */
function bpfFds(): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (/^anon_inode:(bpf[-_]|\[perf_event\])/.test(readlinkSync(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // closed while we were listing
    }
  }
  return n;
}

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");

/** The biggest sleep-family aggregate among `recs`. */
function sleepOf(recs: AggRecord[]): Observed | undefined {
  const byName = new Map<string, Observed>();
  for (const r of recs) {
    const name = syscallName(r.nr);
    if (!SLEEP_SYSCALLS.has(name)) continue;
    const o = byName.get(name) ?? { syscall: name, count: 0, totalMs: 0 };
    o.count += r.count;
    o.totalMs += r.totalNs / 1e6;
    byName.set(name, o);
  }
  return [...byName.values()].sort((a, b) => b.totalMs - a.totalMs)[0];
}

const describe = (o: Observed) => `${o.syscall} x${o.count} total ${Math.round(o.totalMs)} ms`;

/** Runs the self-test; throws AgentEnvironmentError (environment) or SelfTestFailure (tracing did not work). */
export async function selfTest(opts: SelfTestOptions = {}): Promise<SelfTestReport> {
  const sleepMs = opts.sleepMs ?? 300;
  const childMs = Math.round(sleepMs / 3);
  const lines: string[] = [];
  const say = (l: string) => {
    lines.push(l);
    opts.log?.(l);
  };
  const arch = hostArch();
  const kernel = release();

  const { tracefs } = preflight({ mountTracefs: true });
  const lib = libbpfInfo();
  say(`self-test: preflight ok: bpf privileges, ${lib.path} (libbpf ${lib.version}), tracefs at ${tracefs}`);

  if (existsSync(NO_BTF_PATH)) throw new SelfTestFailure(`${NO_BTF_PATH} exists, so it cannot stand for "no kernel BTF"`);
  const fdsBefore = bpfFds();
  const probe = await SyscallProbe.open({ btfCustomPath: NO_BTF_PATH, mountTracefs: true, consumeIntervalMs: 0, inherit: true, slowThresholdNs: 0 });
  let child: Subprocess | undefined;
  try {
    say(
      `self-test: loaded the embedded syscall_latency.bpf.o with libbpf's kernel BTF path set to ${NO_BTF_PATH} ` +
        `(kernel BTF ${existsSync(KERNEL_BTF) ? `present at ${KERNEL_BTF} but` : "absent and"} not used); ` +
        `attached ${probe.attached.join(", ")} (raw_syscalls/sys_enter, raw_syscalls/sys_exit, sched/sched_process_exit, sched/sched_process_fork)`,
    );
    const pool = new TracePool({ sink: probe, maxBindings: 4, defaultTtlMs: 60_000, maxTtlMs: 60_000 });
    // The shell waits for a line on stdin, so it is bound before the syscalls that count: a forked
    // sleep (inherits the binding in-kernel), then `exec sleep` (the bound pid itself).
    const script = `read _go; sleep ${childMs / 1000}; exec sleep ${sleepMs / 1000}`;
    const proc = Bun.spawn(["sh", "-c", script], { stdin: "pipe", stdout: "ignore", stderr: "inherit" });
    child = proc;
    const b = pool.bind({ pid: proc.pid, traceId: hex(16), spanId: hex(8), service: "self-test" });
    proc.stdin.write("go\n");
    await proc.stdin.end();
    const code = await Promise.race([proc.exited, Bun.sleep(sleepMs + childMs + 30_000).then(() => "timeout" as const)]);
    if (code !== 0) throw new SelfTestFailure(`the traced child (sh -c '${script}') ${code === "timeout" ? "did not finish" : `exited ${code}`}`);
    const recs = probe.drainAggregates().filter((r) => r.bindId === b.bindId);
    pool.unbind({ pid: proc.pid });
    const left = probe.poolEntries().length;
    const drops = probe.drops();
    const direct = sleepOf(recs.filter((r) => r.tid === proc.pid));
    const inherited = sleepOf(recs.filter((r) => r.tid !== proc.pid));
    const seen = [...new Set(recs.map((r) => syscallName(r.nr)))].sort();
    say(
      `self-test: bound pid ${proc.pid} (sh -c '${script}'): ${recs.length} per-(thread, syscall) aggregates, syscalls seen: ${seen.join(" ") || "none"}`,
    );
    if (!direct)
      throw new SelfTestFailure(
        `attached, but the bound process's ${sleepMs} ms sleep (nanosleep family) was not observed (${recs.length} aggregates for it; drops ${JSON.stringify(drops)})`,
      );
    if (direct.totalMs < sleepMs * 0.9)
      throw new SelfTestFailure(`the bound process's sleep measured ${describe(direct)}, expected about ${sleepMs} ms`);
    if (!inherited) {
      throw new SelfTestFailure(
        `the bound process's own sleep was observed (${describe(direct)}), but not its forked child's: in-kernel inheritance ` +
          `(sched_process_fork, AGENT_INHERIT_CHILDREN) does not work on this kernel (${kernel})`,
      );
    }
    if (left !== 0) throw new SelfTestFailure(`unbinding left ${left} entries in the kernel pool map`);
    say(`self-test: child ${describe(inherited)} (inherited binding); pool empty after unbind; drops ${JSON.stringify(drops)}`);
    probe.close();
    const fdsAfter = bpfFds();
    if (fdsAfter !== fdsBefore) throw new SelfTestFailure(`detach left ${fdsAfter - fdsBefore} BPF/perf-event file descriptors open`);
    say(
      `self-test: ok arch=${arch} kernel=${kernel} btf=not-used attached=raw_syscalls observed ${describe(direct)} ` +
        `inherited ${describe(inherited)} detached=ok`,
    );
    return { arch, kernel, direct, inherited, lines };
  } finally {
    child?.kill("SIGKILL");
    probe.close(); // idempotent
  }
}

/** CLI entry: prints the steps and the verdict; 0 when the node can trace, 1 (with the reason) when not. */
export async function runSelfTest(opts: SelfTestOptions = {}): Promise<number> {
  try {
    await selfTest({ log: (l) => console.log(l), ...opts });
    return 0;
  } catch (e) {
    if (e instanceof AgentEnvironmentError || e instanceof SelfTestFailure) {
      console.error(`self-test: FAILED arch=${hostArch()} kernel=${release()}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
