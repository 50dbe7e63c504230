// Agent overhead: ns per syscall of `dd bs=1` (one read + one write per byte) with no probe, with an
// EMPTY program on the same two raw_syscalls tracepoints (the physical floor: what any tracepoint
// program costs on this kernel), as a classic tracepoint program and as a raw tracepoint program (the
// kind the probe attaches: "vs raw" is its floor, "vs empty" the classic one), with the probe loaded but dd unbound (the cost every process on the
// node pays), dd bound (in-kernel aggregates only), and dd bound with every syscall sent through the
// ring buffer into JS (events/s, drops). Also the RSS of this process with the probe loaded. Needs root.
// Each case is the best of 3 dd runs per round; the printed figure is the median over `--rounds`
// rounds (cases interleaved within a round, so a load change hits all of them), with the min–max.
// Usage: bun bench/agent-overhead.ts [--bytes 1000000] [--rounds 3] [--object agent/bpf/x.bpf.o] [--compare old.bpf.o] [--cpu]
// --cpu measures dd's own CPU time (rusage: the scheduler's exact runtime, probe programs included)
// instead of wall time: on a loaded machine wall time mostly measures the wait for a CPU.
// --compare adds the same two probe cases for another object, interleaved in every round: an A/B of a
// probe change that a load change during the run hits equally.
// Prints a table, then one JSON line (what bench/run.ts reads).   (not part of npm test)
import { ptr, type Pointer } from "bun:ffi";
import { join } from "node:path";
import { libbpf } from "../agent/libbpf.ts";
import { SyscallProbe } from "../agent/loader.ts";
import { spread } from "./lib/stats.ts";

const args = process.argv.slice(2);
const arg = (n: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : undefined);
const BYTES = Number(arg("bytes")) || 1_000_000;
const ROUNDS = Number(arg("rounds")) || 3;
const OBJECT = arg("object"); // an alternative probe object
const COMPARE = arg("compare");
const CPU = args.includes("--cpu");
const SYSCALLS = BYTES * 2;

/** Runs dd after `before(pid)` (binding) and returns wall (or with --cpu, dd's CPU) ns per syscall. */
async function runDd(before?: (pid: number) => void): Promise<number> {
  const p = Bun.spawn(["sh", "-c", `read x; exec dd bs=1 count=${BYTES} if=/dev/zero of=/dev/null status=none`], { stdin: "pipe" });
  before?.(p.pid);
  const t0 = process.hrtime.bigint();
  p.stdin.write("go\n");
  p.stdin.flush();
  await p.exited;
  if (CPU) return (Number(p.resourceUsage()?.cpuTime.total ?? Number.NaN) * 1000) / SYSCALLS; // µs → ns
  return Number(process.hrtime.bigint() - t0) / SYSCALLS;
}

async function best(n: number, f: () => Promise<number>): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < n; i++) b = Math.min(b, await f());
  return b;
}

/** Loads bench/bpf/empty.bpf.o, attaches two of its programs (they return 0) and returns their detach. */
async function attachEmpty(names = ["empty_enter", "empty_exit"]): Promise<() => void> {
  const lib = libbpf();
  const bytes = new Uint8Array(await Bun.file(join(import.meta.dir, "bpf", "empty.bpf.o")).arrayBuffer());
  const obj = lib.bpf_object__open_mem(ptr(bytes), bytes.length, null) as Pointer | null;
  if (!obj || lib.bpf_object__load(obj)) throw new Error("cannot load bench/bpf/empty.bpf.o");
  const links: Pointer[] = [];
  for (const name of names) {
    const link = lib.bpf_program__attach(lib.bpf_object__find_program_by_name(obj, Buffer.from(`${name}\0`))) as Pointer | null;
    if (!link) throw new Error(`cannot attach ${name}`);
    links.push(link);
  }
  return () => {
    for (const l of links) lib.bpf_link__destroy(l);
    lib.bpf_object__close(obj);
    void bytes;
  };
}

const probeObject = OBJECT ? new Uint8Array(await Bun.file(OBJECT).arrayBuffer()) : undefined;
const compareObject = COMPARE ? new Uint8Array(await Bun.file(COMPARE).arrayBuffer()) : undefined;
const cases = [
  "no probe",
  "empty tracepoint program",
  "empty raw tracepoint program",
  "probe, dd unbound",
  "probe, dd bound (aggregates)",
  ...(COMPARE ? ["probe (compare), dd unbound", "probe (compare), dd bound (aggregates)"] : []),
];
const per: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c, []]));
let bindId = 1;
let events = 0;
for (let round = 0; round < ROUNDS; round++) {
  per["no probe"]!.push(await best(3, () => runDd()));
  const detach = await attachEmpty();
  try {
    per["empty tracepoint program"]!.push(await best(3, () => runDd()));
  } finally {
    detach();
  }
  const detachRaw = await attachEmpty(["empty_raw_enter", "empty_raw_exit"]);
  try {
    per["empty raw tracepoint program"]!.push(await best(3, () => runDd()));
  } finally {
    detachRaw();
  }
  for (const [tag, object] of [["probe", probeObject], ...(compareObject ? [["probe (compare)", compareObject] as const] : [])] as const) {
    const probe = await SyscallProbe.open({ slowThresholdNs: 0, consumeIntervalMs: 10, ringbufBytes: 4 << 20, mountTracefs: true, object });
    try {
      per[`${tag}, dd unbound`]!.push(await best(3, () => runDd()));
      per[`${tag}, dd bound (aggregates)`]!.push(await best(3, () => runDd((pid) => probe.poolSet(pid, bindId++, true))));
      probe.drainAggregates();
    } finally {
      probe.close();
    }
  }
}

// Every syscall into JS: once, after the rounds.
const probe = await SyscallProbe.open({
  slowThresholdNs: 1, // every syscall becomes a ring-buffer event
  consumeIntervalMs: 10,
  ringbufBytes: 4 << 20,
  onSlow: () => events++,
  mountTracefs: true,
  object: probeObject,
});
const t0 = performance.now();
const ring = await runDd((pid) => probe.poolSet(pid, bindId++, true));
probe.consume();
const secs = (performance.now() - t0) / 1000;
const drops = probe.drops();
const rss = process.memoryUsage().rss;
probe.close();

const med = (c: string) => spread(per[c]!);
const base = med("no probe").median;
const floor = med("empty tracepoint program").median;
const rawFloor = med("empty raw tracepoint program").median;
const rows: { case: string; ns: number; min: number; max: number; n: number; overhead: string; overFloor?: string; overRawFloor?: string }[] =
  cases.map((c) => {
    const s = med(c);
    return {
      case: c,
      ns: Math.round(s.median),
      min: Math.round(s.min),
      max: Math.round(s.max),
      n: s.n,
      overhead: c === "no probe" ? "-" : `+${Math.round(s.median - base)}`,
      overFloor: c.startsWith("probe") ? `+${Math.round(s.median - floor)}` : undefined,
      overRawFloor: c.startsWith("probe") ? `+${Math.round(s.median - rawFloor)}` : undefined,
    };
  });
rows.push({
  case: "probe, dd bound, every syscall to JS",
  ns: Math.round(ring),
  min: Math.round(ring),
  max: Math.round(ring),
  n: 1,
  overhead: `+${Math.round(ring - base)}`,
  overFloor: `+${Math.round(ring - floor)}`,
  overRawFloor: `+${Math.round(ring - rawFloor)}`,
});

console.log(
  `dd bs=1 count=${BYTES} (${SYSCALLS} syscalls), best of 3 per round, median of ${ROUNDS} rounds, ${CPU ? "dd CPU time" : "wall time"}, ${process.arch}${OBJECT ? `, probe ${OBJECT}` : ""}${COMPARE ? `, compare ${COMPARE}` : ""}`,
);
console.log(
  `${"case".padEnd(40)} ${"ns/syscall".padStart(10)} ${"min–max".padStart(11)} ${"vs none".padStart(8)} ${"vs empty".padStart(9)} ${"vs raw".padStart(7)}`,
);
for (const r of rows)
  console.log(
    `${r.case.padEnd(40)} ${String(r.ns).padStart(10)} ${`${r.min}–${r.max}`.padStart(11)} ${r.overhead.padStart(8)} ${(r.overFloor ?? "").padStart(9)} ${(r.overRawFloor ?? "").padStart(7)}`,
  );
const intoJs = `events into JS: ${events} in ${secs.toFixed(2)} s = ${Math.round(events / secs)} events/s; kernel drops: ${JSON.stringify(drops)}`;
console.log(intoJs);
console.log(`RSS with the probe loaded: ${(rss / 1048576).toFixed(1)} MiB`);
console.log(JSON.stringify({ bytes: BYTES, rounds: ROUNDS, metric: CPU ? "cpu" : "wall", rows, intoJs, rssMiB: rss / 1048576 }));
