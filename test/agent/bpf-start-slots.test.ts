// The probe's start slots (agent/bpf/syscall_latency.bpf.c): an array indexed by tid, and a spill map for a
// thread whose slot holds another traced thread's open syscall. Built with -DSTART_SLOTS=1 every thread
// shares one slot, so threads sleeping at the same time go through the spill path — and must all be measured.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { BPF_DIR, clangArgs } from "../../agent/build-bpf.ts";
import { SyscallProbe } from "../../agent/loader.ts";
import { ebpfUnavailable, PYTHON } from "./helpers.ts";

const skip = ebpfUnavailable() ?? (existsSync("/usr/bin/clang") ? undefined : "no clang");
if (skip) console.log(`[skip] start-slot spill test: ${skip}`);

test.skipIf(!!skip)("threads colliding on one start slot are each measured (spill path), nothing dropped", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "neuro-slots-")), "one-slot.bpf.o");
  const cc = await $`clang -DSTART_SLOTS=1 ${clangArgs("syscall_latency.bpf.c", out)}`.cwd(BPF_DIR).nothrow().quiet();
  expect(cc.stderr.toString()).toBe("");
  const probe = await SyscallProbe.open({ object: new Uint8Array(readFileSync(out)), consumeIntervalMs: 0, inherit: false, mountTracefs: true });
  try {
    // Three threads sleep 200 ms at once while the main thread waits in join: four open syscalls, one slot.
    const code = `
import sys, threading, time
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
tids = []
def run():
    tids.append(threading.get_native_id()); time.sleep(0.2)
ts = [threading.Thread(target=run) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
sys.stdout.write(" ".join(map(str, tids)) + "\\n"); sys.stdout.flush()
`;
    const child = Bun.spawn([PYTHON, "-c", code], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    const line = async (n: number) => {
      while (text.split("\n").length <= n) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return text.split("\n")[n - 1] ?? "";
    };
    expect(await line(1)).toBe("ready");
    expect(probe.poolSet(child.pid, 7, true)).toBe(true);
    child.stdin.write("go\n");
    child.stdin.flush();
    const tids = (await line(2)).split(" ").map(Number);
    await child.exited;
    expect(tids.length).toBe(3);
    const recs = probe.drainAggregates().filter((r) => r.bindId === 7);
    for (const tid of tids) {
      // each thread's sleep, whatever the syscall Python uses for it
      const longest = Math.max(0, ...recs.filter((r) => r.tid === tid).map((r) => r.maxNs));
      expect(longest).toBeGreaterThanOrEqual(150e6);
    }
    // the main thread's join (a futex wait) was open at the same time too
    expect(recs.some((r) => r.tid === child.pid && r.maxNs >= 150e6)).toBe(true);
    expect(probe.drops().startFull).toBe(0);
  } finally {
    probe.close();
  }
});
