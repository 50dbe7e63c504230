// Host-health collection cost: the CPU one agent snapshot costs (this process + the children
// systeminformation runs, e.g. df), and what that is at HOST_HEALTH_INTERVAL's default (15 s) in
// millicores. Collections are spaced 1 s apart (not back to back) so systeminformation's short-lived
// caches do not make them look cheaper than on a node. Budget: ≤ 2m at the default interval.
// Usage: bun bench/host-health-cost.ts [--collections 20] [--root /]   (not part of npm test; last line is JSON)
import { readFileSync } from "node:fs";
import { collectHostSnapshot } from "../agent/host-health.ts";
import { parseDuration } from "../src/config/units.ts";
import { SCHEMA } from "../src/config/schema.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : dflt);
const N = Number(opt("collections", "20"));
const root = opt("root", "/");
const intervalMs = parseDuration(SCHEMA.find((k) => k.key === "HOST_HEALTH_INTERVAL")!.default)!;
const TICKS = 100; // USER_HZ on Linux

/** CPU ms of this process (cpuUsage, µs) and of its waited-for children (/proc/self/stat cutime + cstime). */
function cpu(): { self: number; children: number } {
  const u = process.cpuUsage();
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  return { self: (u.user + u.system) / 1000, children: ((Number(f[13]) + Number(f[14])) * 1000) / TICKS };
}

const opts = { node: "bench", root, intervalMs };
for (let i = 0; i < 2; i++) await collectHostSnapshot(opts); // JIT and module warm-up, as an agent after its first minute
let wall = 0;
const before = cpu();
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  await collectHostSnapshot(opts);
  wall += performance.now() - t0;
  await Bun.sleep(1000);
}
const after = cpu();
const selfMs = (after.self - before.self) / N;
const childMs = (after.children - before.children) / N;
const perCollection = selfMs + childMs;
const millicores = (perCollection / intervalMs) * 1000;
console.log(
  `host health: ${N} collections, ${perCollection.toFixed(2)} ms CPU each (agent ${selfMs.toFixed(2)} ms + children ${childMs.toFixed(2)} ms), ` +
    `${(wall / N).toFixed(0)} ms wall; at the default ${intervalMs / 1000} s interval: ${millicores.toFixed(3)}m`,
);
console.log(
  JSON.stringify({
    collections: N,
    intervalMs,
    cpuMsPerCollection: perCollection,
    agentMs: selfMs,
    childrenMs: childMs,
    wallMs: wall / N,
    millicores,
  }),
);
