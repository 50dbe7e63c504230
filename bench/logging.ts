// Logging cost, old vs new: the hand-written JSON logger (bench/lib/legacy-log.ts) against src/log.ts
// (pino + @elastic/ecs-pino-format). Each implementation runs in its own fresh process so the RSS
// figures do not mix: RSS before loading the logger, after loading it, and after N lines; CPU (user+sys)
// and wall time over the N lines. Lines go where they go in production, stderr, here redirected to
// /dev/null so the terminal is not the bottleneck. A realistic mix: a child logger per component,
// 2-4 fields per line, one line in 20 with an error, two configured secrets to redact.
//   bun bench/logging.ts [--lines 200000]          prints one JSON line {old, new, …}
//   bun bench/logging.ts --impl old|new [--sink stderr|none] --lines N  (internal: one measurement)
import { readFileSync } from "node:fs";

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1]! : d);
const lines = Number(arg("lines", "200000"));
const SECRETS = ["https://hooks.slack.com/services/T000/B000/XXXXSECRET", "s3cret-mail-pass"];

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const hwmMiB = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;

export interface LoggingRun {
  impl: "old" | "new";
  /** stderr: formatting + the write (what production pays); none: formatting and redaction only. */
  sink: "stderr" | "none";
  lines: number;
  linesPerSec: number;
  cpuUsPerLine: number;
  rssBeforeLoadMiB: number;
  rssLoadDeltaMiB: number;
  rssAfterLinesMiB: number;
  rssPeakMiB: number;
  bytesPerLine: number;
}

async function measure(impl: "old" | "new", sink: "stderr" | "none"): Promise<LoggingRun> {
  // What src/log.ts imports besides pino is loaded in production anyway: loaded first, outside the delta.
  await import("../src/config/schema.ts");
  await import("../src/version.ts");
  Bun.gc(true);
  const before = rssMiB();
  const { createLogger } =
    impl === "old" ? { createLogger: (await import("./lib/legacy-log.ts")).createLegacyLogger } : await import("../src/log.ts");
  const sample: string[] = [];
  const probe = createLogger({ level: "info", secrets: SECRETS, write: (l) => void sample.push(l) });
  probe.child({ component: "watch" }).info("event handled", { kind: "Pod", name: "web-1", namespace: "default" });
  const log = createLogger({ level: "info", secrets: SECRETS, ...(sink === "none" ? { write: () => {} } : {}) });
  Bun.gc(true);
  const loaded = rssMiB();
  const children = ["watch", "pipeline", "store", "mqtt"].map((component) => log.child({ component }));
  const err = Object.assign(new Error(`POST ${SECRETS[0]} failed`), { code: "ECONNRESET" });
  const cpu0 = process.cpuUsage();
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < lines; i++) {
    const c = children[i & 3]!;
    if (i % 20 === 0) c.warn("delivery failed; retrying", { channel: "slack", attempt: i, err });
    else if (i % 3 === 0) c.info("event handled", { kind: "Pod", name: `web-${i % 500}`, namespace: "default", rv: i });
    else c.info("batch written", { written: i % 100, pending: 0 });
    c.debug("filtered out", { i }); // below the level: the cost of a disabled line
  }
  // The old logger's process.stderr.write may still hold lines: the clock stops once they are out.
  await new Promise<void>((resolve) => process.stderr.write("", () => resolve()));
  const secs = (Bun.nanoseconds() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    impl,
    sink,
    lines,
    linesPerSec: Math.round(lines / secs),
    cpuUsPerLine: +((cpu.user + cpu.system) / lines).toFixed(2),
    rssBeforeLoadMiB: +before.toFixed(1),
    rssLoadDeltaMiB: +(loaded - before).toFixed(1),
    rssAfterLinesMiB: +rssMiB().toFixed(1),
    rssPeakMiB: +hwmMiB().toFixed(1),
    bytesPerLine: sample[0]!.length,
  };
}

/** Runs each implementation in its own process (stderr to /dev/null) and compares them. */
export function runLoggingBench(n = lines) {
  const one = (impl: string, sink = "stderr"): LoggingRun => {
    const p = Bun.spawnSync([process.execPath, import.meta.path, "--impl", impl, "--sink", sink, "--lines", String(n)], { stderr: "ignore" });
    if (p.exitCode !== 0) throw new Error(`bench/logging.ts --impl ${impl} exited ${p.exitCode}`);
    return JSON.parse(p.stdout.toString().trim().split("\n").at(-1)!);
  };
  const old = one("old");
  const now = one("new");
  return {
    old,
    new: now,
    formatOnly: { old: one("old", "none"), new: one("new", "none") },
    speedRatio: +(now.linesPerSec / old.linesPerSec).toFixed(2),
    cpuPerLineDeltaUs: +(now.cpuUsPerLine - old.cpuUsPerLine).toFixed(2),
    rssLoadDeltaMiB: +(now.rssLoadDeltaMiB - old.rssLoadDeltaMiB).toFixed(1),
    rssAfterLinesDeltaMiB: +(now.rssAfterLinesMiB - old.rssAfterLinesMiB).toFixed(1),
  };
}

if (import.meta.main) {
  const impl = arg("impl", "");
  if (impl === "old" || impl === "new") console.log(JSON.stringify(await measure(impl, arg("sink", "stderr") === "none" ? "none" : "stderr")));
  else console.log(JSON.stringify(runLoggingBench()));
}
