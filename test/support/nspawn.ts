// Boots a rootfs (test/support/rootfs.ts) with systemd as PID 1 in systemd-nspawn, on a host whose PID 1
// is not systemd. Shared by the systemd unit tests and the Ansible tests.
//
//   const c = await bootContainer(root, { name: "neuro-units" });
//   await c.systemctl("start", "neurocontroller.service");
//   const { stdout } = await c.exec(["cat", "/etc/os-release"]);
//   await c.stop();
//
// Why it looks like this (measured on these machines, see docs/architecture.md, "Platform facts"):
// - without a registering systemd on the host, nspawn needs --register=no --keep-unit and a cgroup
//   subtree of its own: the launching shell moves itself into /sys/fs/cgroup/{systemd,unified}/<name>
//   before exec'ing nspawn, otherwise the container's systemd cannot set up its cgroups;
// - `machinectl` / `systemctl -M` need a host systemd, so everything is driven with
//   `nsenter -t <leader> -a` (leader = the container's PID 1 = the child of the nspawn process);
// - host networking (no --private-network): the container shares the host's network namespace, so a
//   simulator on the host's 127.0.0.1 is reachable from inside; services that bind fixed ports
//   (sshd :22) must be moved to other ports before boot;
// - ambient capabilities asked for by units are silently dropped unless nspawn grants them
//   (--capability=CAP_BPF,CAP_PERFMON by default here for the eBPF agent);
// - nspawn's own seccomp filter makes bpf() and perf_event_open() fail with EPERM inside the container
//   even for root with every capability (measured: libbpf "Couldn't load trivial BPF program"), so
//   with CAP_BPF they are allowed explicitly (--system-call-filter). `nsenter` does not inherit that
//   filter, which is why a shell entered from the host can load BPF while a unit cannot.
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../../testkit/wait.ts";

export interface BootOptions {
  /** Container and cgroup name; unique per concurrently running container. */
  name?: string;
  capabilities?: string[];
  /** Extra systemd-nspawn arguments (e.g. --bind=/host/path:/path). */
  extraArgs?: string[];
  /** How long to wait for the boot to settle (is-system-running leaves "starting"). */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Container {
  root: string;
  name: string;
  /** PID (host namespace) of the container's systemd. */
  leader: number;
  /** State reported by `systemctl is-system-running` once boot settled (running or degraded). */
  bootState: string;
  exec(cmd: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** exec of `sh -c script`. */
  sh(script: string): Promise<ExecResult>;
  /** exec of `systemctl args…`. */
  systemctl(...args: string[]): Promise<ExecResult>;
  /** Everything the container printed on its console so far (boot messages, unit failures). */
  console(): string;
  stop(): Promise<void>;
}

const HIERARCHIES = ["systemd", "unified"];

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …" — comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {}
  }
  return out;
}

function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {}
}

export async function bootContainer(root: string, opts: BootOptions = {}): Promise<Container> {
  const name = opts.name ?? `neuro-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const log = opts.log ?? ((l: string) => console.log(`[nspawn ${name}] ${l}`));
  const caps = opts.capabilities ?? ["CAP_BPF", "CAP_PERFMON"];
  if (!Bun.which("systemd-nspawn")) throw new Error("systemd-nspawn missing: apt-get install systemd-container");

  const nspawnArgs = [
    "systemd-nspawn",
    "-D",
    root,
    "-b",
    "--register=no",
    "--keep-unit",
    "--console=pipe",
    `--machine=${name}`,
    ...(caps.length ? [`--capability=${caps.join(",")}`] : []),
    ...(caps.includes("CAP_BPF") ? ["--system-call-filter=bpf perf_event_open"] : []),
    ...(opts.extraArgs ?? []),
  ];
  // The shell puts itself (and so nspawn, which it exec's) into a fresh cgroup subtree.
  const script =
    `set -e; for h in ${HIERARCHIES.join(" ")}; do d=/sys/fs/cgroup/$h/${name}; ` +
    `[ -d /sys/fs/cgroup/$h ] || continue; mkdir -p $d; echo $$ > $d/cgroup.procs; done; exec "$@"`;
  log(`booting ${root}`);
  const started = Date.now();
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(["sh", "-c", script, "sh", ...nspawnArgs], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let consoleText = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) consoleText += dec.decode(chunk, { stream: true });
  };
  void drain(proc.stdout);
  void drain(proc.stderr);

  const cleanupCgroups = () => {
    for (const h of HIERARCHIES) removeCgroup(`/sys/fs/cgroup/${h}/${name}`);
  };
  const tail = () => consoleText.split("\n").slice(-25).join("\n");

  let leader = 0;
  try {
    leader = await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`systemd-nspawn exited ${proc.exitCode}`);
        const kid = childrenOf(proc.pid).find((p) => {
          try {
            return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "systemd";
          } catch {
            return false;
          }
        });
        return kid ?? 0;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: () => `container PID 1 (console:\n${tail()})` },
    );
  } catch (e) {
    proc.kill("SIGKILL");
    cleanupCgroups();
    throw e;
  }

  const exec = async (cmd: string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecResult> => {
    const p = Bun.spawn(["nsenter", "-t", String(leader), "-a", "--", ...cmd], {
      stdin: o.stdin !== undefined ? new Blob([o.stdin]) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    const [stdout, stderr] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    return { code, stdout, stderr };
  };

  const stop = async () => {
    if (proc.exitCode === null) {
      // nspawn turns SIGTERM into an orderly poweroff of the container (SIGRTMIN+3 to its PID 1).
      proc.kill("SIGTERM");
      try {
        await waitFor(() => proc.exitCode !== null, { timeoutMs: 30_000, intervalMs: 100, message: "container poweroff" });
      } catch {
        log("poweroff timed out; killing");
        proc.kill("SIGKILL");
        try {
          process.kill(leader, "SIGKILL");
        } catch {}
        await proc.exited;
      }
    }
    cleanupCgroups();
    log("stopped");
  };

  let bootState = "";
  try {
    bootState = await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`systemd-nspawn exited ${proc.exitCode}`);
        const r = await exec(["systemctl", "is-system-running"], { timeoutMs: 10_000 });
        const s = r.stdout.trim();
        return s === "running" || s === "degraded" ? s : "";
      },
      { timeoutMs: opts.bootTimeoutMs ?? 60_000, intervalMs: 200, message: () => `boot to settle (console:\n${tail()})` },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  log(`booted (${bootState}) in ${((Date.now() - started) / 1000).toFixed(1)} s, leader pid ${leader}`);
  if (bootState === "degraded") {
    const failed = await exec(["systemctl", "--failed", "--no-legend", "--plain"]);
    log(`failed units: ${failed.stdout.trim() || "(none listed)"}`);
  }

  return {
    root,
    name,
    leader,
    bootState,
    exec,
    stop,
    sh: (s) => exec(["sh", "-c", s]),
    systemctl: (...args) => exec(["systemctl", ...args]),
    console: () => consoleText,
  };
}

/** Writes a file into a (stopped or running) container's tree from the host side. */
export function writeInto(root: string, path: string, content: string | Uint8Array, mode = 0o644): void {
  const full = join(root, path);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content, { mode });
}
