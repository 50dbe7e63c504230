// The shipped object: reproducible from source, free of CO-RE relocations, loadable without kernel
// BTF (libbpf's btf_custom_path pointed at a nonexistent file), and detached cleanly.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { BPF_DIR, buildBpf, hasClang } from "../../agent/build-bpf.ts";
import { embeddedObject, FORK_PROGRAMS, forkProgram, parseForkChildPidOffset, SyscallProbe } from "../../agent/loader.ts";
import { AgentEnvironmentError } from "../../agent/libbpf.ts";
import { ebpfUnavailable } from "./helpers.ts";

const OBJ = join(BPF_DIR, "syscall_latency.bpf.o");

/** The .BTF.ext header's CO-RE relocation length (0 or absent = no CO-RE). */
function coreReloLen(obj: Uint8Array): number {
  const buf = Buffer.from(obj);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const sec = (i: number) => ({
    name: buf.readUInt32LE(shoff + i * shentsize),
    off: Number(buf.readBigUInt64LE(shoff + i * shentsize + 0x18)),
    size: Number(buf.readBigUInt64LE(shoff + i * shentsize + 0x20)),
  });
  const strtab = sec(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    const name = buf.toString("latin1", strtab.off + s.name, buf.indexOf(0, strtab.off + s.name));
    if (name !== ".BTF.ext") continue;
    expect(buf.readUInt16LE(s.off)).toBe(0xeb9f); // BTF magic
    const hdrLen = buf.readUInt32LE(s.off + 4);
    return hdrLen >= 32 ? buf.readUInt32LE(s.off + 28) : 0; // core_relo_len
  }
  return 0;
}

describe("syscall_latency.bpf.o", () => {
  test("is committed, embedded, and has no CO-RE relocations", async () => {
    expect(existsSync(OBJ)).toBe(true);
    const bytes = await embeddedObject();
    expect(Buffer.from(bytes).equals(readFileSync(OBJ))).toBe(true);
    expect(coreReloLen(bytes)).toBe(0);
    // And no vmlinux types: only our own structs are in the object's BTF.
    const dump = await $`bpftool btf dump file ${OBJ}`.nothrow().quiet();
    if (dump.exitCode === 0) expect(dump.stdout.toString()).not.toContain("task_struct");
  });

  test.skipIf(!existsSync("/usr/bin/clang"))("rebuilding from source reproduces the committed bytes", async () => {
    expect(await hasClang()).toBe(true);
    const out = mkdtempSync(join(tmpdir(), "neuro-bpf-"));
    const [built] = await buildBpf(out);
    expect(readFileSync(built!).equals(readFileSync(OBJ))).toBe(true);
  });

  test("sched_process_fork: child_pid's offset is read from the format file, for both kernel layouts", () => {
    const common = `format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;
    // Debian bookworm 6.1 (as printed by the arm64 image in qemu-system-aarch64) and older kernels
    const arrays = `${common}
\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:char child_comm[16];\toffset:28;\tsize:16;\tsigned:0;
\tfield:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;
`;
    // newer kernels (this host's 6.18)
    const dataLoc = `${common}
\tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;
\tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;
`;
    expect(parseForkChildPidOffset(arrays)).toBe(44);
    expect(parseForkChildPidOffset(dataLoc)).toBe(20);
    expect(parseForkChildPidOffset(common)).toBeUndefined();
    expect(FORK_PROGRAMS).toEqual({ 20: "on_fork", 44: "on_fork_comm_array" });
    // unknown layout with inheritance on: refused with the file and the way out; off: no fork program
    const dir = mkdtempSync(join(tmpdir(), "neuro-tracefs-"));
    const write = (text: string) => {
      mkdirSync(join(dir, "events/sched/sched_process_fork"), { recursive: true });
      writeFileSync(join(dir, "events/sched/sched_process_fork/format"), text);
    };
    write(arrays);
    expect(forkProgram(dir, true)).toBe("on_fork_comm_array");
    write(dataLoc);
    expect(forkProgram(dir, true)).toBe("on_fork");
    write(dataLoc.replace("offset:20", "offset:28"));
    expect(() => forkProgram(dir, true)).toThrow(/child_pid at offset 28, a layout this agent does not know .*AGENT_INHERIT_CHILDREN=false/);
    expect(forkProgram(dir, false)).toBeUndefined();
    expect(() => forkProgram("/nonexistent", true)).toThrow(AgentEnvironmentError);
  });

  const skip = ebpfUnavailable();
  if (skip) console.log(`[skip] BPF load tests: ${skip}`);

  test.skipIf(!!skip)("loads and attaches with kernel BTF lookup pointed at a nonexistent file", async () => {
    // Program ids of our probe = the on_sys_* / on_thread_exit programs that appear while it opens (another agent on the
    // host — a parallel test run, the bench — may have its own loaded the whole time: those are not ours).
    const ours = async () => {
      const r = await $`bpftool --json prog show`.nothrow().quiet();
      if (r.exitCode !== 0) return undefined;
      return new Set(
        (JSON.parse(r.stdout.toString()) as { id: number; name?: string }[])
          .filter((p) => /^on_(sys_|thread_exit)/.test(p.name ?? ""))
          .map((p) => p.id),
      );
    };
    const before = await ours();
    const probe = await SyscallProbe.open({ btfCustomPath: "/nonexistent/vmlinux.btf", consumeIntervalMs: 0 });
    const attached = await ours();
    const mine = before && attached ? [...attached].filter((id) => !before.has(id)) : [];
    if (attached) expect(mine.length).toBeGreaterThanOrEqual(3); // on_sys_enter + on_sys_exit + on_thread_exit
    expect(probe.poolSet(4242, 1, true)).toBe(true);
    expect(probe.poolEntries()).toEqual([{ id: 4242, bindId: 1, flags: 1 }]);
    probe.close();
    probe.close(); // idempotent
    // Detached: none of our programs is left in the kernel.
    const after = await ours();
    if (after) expect(mine.filter((id) => after.has(id))).toEqual([]);
  });

  test.skipIf(!!skip || !existsSync("/usr/bin/clang"))("negative control: a CO-RE object fails the same way (the check has teeth)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "neuro-core-"));
    writeFileSync(
      join(dir, "core.bpf.c"),
      `#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
struct task_struct { int pid; } __attribute__((preserve_access_index));
SEC("tracepoint/raw_syscalls/sys_enter") int on_sys_enter(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  return BPF_CORE_READ(t, pid) == 0;
}
`,
    );
    const inc = `/usr/include/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`;
    await $`clang -target bpf -O2 -g -idirafter ${inc} -c core.bpf.c -o core.bpf.o`.cwd(dir).quiet();
    const obj = new Uint8Array(readFileSync(join(dir, "core.bpf.o")));
    expect(coreReloLen(obj)).toBeGreaterThan(0);
    const err = await SyscallProbe.open({ object: obj, btfCustomPath: "/nonexistent/vmlinux.btf", consumeIntervalMs: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(AgentEnvironmentError);
  });
});
