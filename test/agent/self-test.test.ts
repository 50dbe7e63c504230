// `neurocontroller agent --self-test` as users run it after installing: the compiled binary, real eBPF
// on this host's kernel, no MQTT. Positive as root and with only CAP_BPF + CAP_PERFMON (what the systemd
// unit grants); negative as an unprivileged user, without CAP_PERFMON, and without tracefs — each exits 1
// naming what is missing. Each self-test loads its own maps, so a concurrently running agent does not
// disturb it (and it leaves nothing loaded that could disturb one: it checks its own detach).
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { BINARY, ROOT } from "../support/controller.ts";
import { ebpfUnavailable } from "./helpers.ts";

const skip = ebpfUnavailable();
if (skip) console.log(`[skip] agent --self-test: ${skip}`);
const log = (s: string) => console.log(`[self-test] ${s}`);
const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
// util-linux tools (test/run.sh installs the package): missing ones fail the suite, they do not skip it.
const MISSING_TOOLS = ["setpriv", "runuser", "unshare"].filter((t) => Bun.spawnSync(["sh", "-c", `command -v ${t}`]).exitCode !== 0);

async function run(cmd: string[]) {
  // A minimal environment: no MQTT_URL or any other configuration is needed.
  const p = Bun.spawn(cmd, { cwd: "/", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** The verdict line and its figures. */
function verdict(out: string) {
  const m =
    /^self-test: ok arch=(\S+) kernel=(\S+) btf=not-used attached=raw_syscalls observed (\w+) x(\d+) total (\d+) ms inherited (\w+) x(\d+) total (\d+) ms detached=ok$/m.exec(
      out,
    );
  expect(m).not.toBeNull();
  const [, a, kernel, syscall, count, totalMs, childSyscall, , childMs] = m!;
  return { line: m![0], arch: a, kernel, syscall, count: Number(count), totalMs: Number(totalMs), childSyscall, childMs: Number(childMs) };
}

describe.skipIf(!!skip)("neurocontroller agent --self-test (compiled binary, real eBPF)", () => {
  beforeAll(async () => {
    if (MISSING_TOOLS.length) throw new Error(`missing ${MISSING_TOOLS.join(", ")}: apt-get install util-linux`);
    // The host binary only; reused when its inputs did not change.
    const b = await run([process.execPath, `${ROOT}/scripts/build.ts`]);
    log((b.out + b.err).trim());
    expect(b.code).toBe(0);
    expect(existsSync(BINARY)).toBe(true);
  }, 300_000);

  test("as root: loads without kernel BTF, observes the bound child's sleep and its forked child's, exits 0", async () => {
    const r = await run([BINARY, "agent", "--self-test"]);
    log(r.out.trim());
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("kernel BTF path set to /nonexistent/");
    const v = verdict(r.out);
    expect(v.arch).toBe(arch);
    expect(v.kernel).toBe(Bun.spawnSync(["uname", "-r"]).stdout.toString().trim());
    expect(v.syscall).toMatch(/^(clock_)?nanosleep$/);
    expect(v.count).toBe(1);
    expect(v.totalMs).toBeGreaterThanOrEqual(270);
    expect(v.totalMs).toBeLessThan(3000);
    expect(v.childSyscall).toMatch(/^(clock_)?nanosleep$/);
    expect(v.childMs).toBeGreaterThanOrEqual(90);
  }, 60_000);

  test("with only CAP_BPF + CAP_PERFMON (the systemd unit's grant, no CAP_SYS_ADMIN): exits 0", async () => {
    const r = await run(["setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin", BINARY, "agent", "--self-test"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(verdict(r.out).syscall).toMatch(/nanosleep$/);
  }, 60_000);

  test("as an unprivileged user: exits 1 naming CAP_BPF and CAP_PERFMON", async () => {
    const r = await run(["runuser", "-u", "nobody", "--", BINARY, "agent", "--self-test"]);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain("self-test: ok");
    expect(r.err).toContain(`self-test: FAILED arch=${arch}`);
    expect(r.err).toContain("lacks CAP_BPF and CAP_PERFMON");
    expect(r.err).toContain("AmbientCapabilities=CAP_BPF CAP_PERFMON");
  }, 60_000);

  test("root without CAP_PERFMON: exits 1 naming exactly that capability", async () => {
    const r = await run(["setpriv", "--bounding-set", "-sys_admin,-perfmon", "--inh-caps", "-sys_admin,-perfmon", BINARY, "agent", "--self-test"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("(uid 0) lacks CAP_PERFMON:");
    expect(r.err).not.toContain("lacks CAP_BPF");
  }, 60_000);

  test("tracefs absent and not mountable (no CAP_SYS_ADMIN): exits 1 naming the mount", async () => {
    // A private mount namespace without tracefs; the host's mounts are untouched.
    const script =
      'for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do umount "$d" 2>/dev/null; done; exec setpriv --bounding-set -sys_admin --inh-caps -sys_admin "$0" agent --self-test';
    const r = await run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, BINARY]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("tracefs is not mounted");
    expect(r.err).toContain("mount -t tracefs nodev /sys/kernel/tracing");
  }, 60_000);
});
