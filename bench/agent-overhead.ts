// Agent overhead: ns per syscall of `dd bs=1` (one read + one write per byte) with no probe, with
// the probe loaded but dd unbound (the cost every process on the node pays), dd bound (in-kernel
// aggregates only), and dd bound with every syscall sent through the ring buffer into JS
// (events/s, drops). Also the RSS of this process with the probe loaded. Needs root.
// Usage: bun bench/agent-overhead.ts [--bytes 1000000]   (not part of npm test)
import { SyscallProbe } from "../agent/loader.ts";

const args = process.argv.slice(2);
const BYTES = Number(args[args.indexOf("--bytes") + 1] ?? 0) || 1_000_000;
const SYSCALLS = BYTES * 2;

/** Runs dd after `before(pid)` (binding) and returns wall ns per syscall. */
async function runDd(before?: (pid: number) => void): Promise<number> {
  const p = Bun.spawn(["sh", "-c", `read x; exec dd bs=1 count=${BYTES} if=/dev/zero of=/dev/null status=none`], { stdin: "pipe" });
  before?.(p.pid);
  const t0 = process.hrtime.bigint();
  p.stdin.write("go\n");
  p.stdin.flush();
  await p.exited;
  return Number(process.hrtime.bigint() - t0) / SYSCALLS;
}

async function best(n: number, f: () => Promise<number>): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < n; i++) b = Math.min(b, await f());
  return b;
}

const rows: [string, string, string][] = [];
const baseline = await best(3, () => runDd());
rows.push(["no probe", baseline.toFixed(0), "-"]);

let events = 0;
const probe = await SyscallProbe.open({
  slowThresholdNs: 0,
  consumeIntervalMs: 10,
  ringbufBytes: 4 << 20,
  onSlow: () => events++,
  mountTracefs: true,
});
const unbound = await best(3, () => runDd());
rows.push(["probe, dd unbound", unbound.toFixed(0), `+${(unbound - baseline).toFixed(0)}`]);

let bindId = 1;
const bound = await best(3, () => runDd((pid) => probe.poolSet(pid, bindId++, true)));
probe.drainAggregates();
rows.push(["probe, dd bound (aggregates)", bound.toFixed(0), `+${(bound - baseline).toFixed(0)}`]);

probe.setSlowThresholdNs(1); // every syscall becomes a ring-buffer event
const t0 = performance.now();
const e0 = events;
const ring = await runDd((pid) => probe.poolSet(pid, bindId++, true));
probe.consume();
const secs = (performance.now() - t0) / 1000;
const drops = probe.drops();
rows.push(["probe, dd bound, every syscall to JS", ring.toFixed(0), `+${(ring - baseline).toFixed(0)}`]);
const rss = process.memoryUsage().rss;
probe.close();

console.log(`dd bs=1 count=${BYTES} (${SYSCALLS} syscalls), best of 3, ${process.arch}`);
console.log(`${"case".padEnd(40)} ${"ns/syscall".padStart(10)} ${"overhead".padStart(9)}`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(40)} ${b.padStart(10)} ${c.padStart(9)}`);
console.log(
  `events into JS: ${events - e0} in ${secs.toFixed(2)} s = ${Math.round((events - e0) / secs)} events/s; kernel drops: ${JSON.stringify(drops)}`,
);
console.log(`RSS with the probe loaded: ${(rss / 1048576).toFixed(1)} MiB`);
