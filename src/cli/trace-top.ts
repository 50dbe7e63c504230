import { TraceAggregator, type AggregatedSpan } from "../trace/aggregate.ts";
import { parseSpanBatch } from "../trace/types.ts";
import { Config, ConfigError } from "../config/load.ts";
import { parseDuration } from "../config/units.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { cliClientIdSuffix, mqttOptionsFromConfig } from "../mqtt/options.ts";
import { configOverrides, CONFIG_FLAGS_HELP, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { renderTable } from "./table.ts";

const fmt = (ns: number) => (ns >= 1e9 ? `${(ns / 1e9).toFixed(2)}s` : ns >= 1e6 ? `${(ns / 1e6).toFixed(1)}ms` : `${(ns / 1e3).toFixed(0)}µs`);

/** Rows of the table: per trace and syscall, worst total first. Exported for tests. */
export function topRows(spans: AggregatedSpan[], limit: number): string[][] {
  const m = new Map<string, AggregatedSpan>();
  for (const s of spans) {
    const k = `${s.traceId}/${s.service}/${s.syscall}`;
    const c = m.get(k);
    if (!c) m.set(k, { ...s });
    else {
      c.count += s.count;
      c.totalNs += s.totalNs;
      c.maxNs = Math.max(c.maxNs, s.maxNs);
    }
  }
  return [...m.values()]
    .sort((a, b) => b.totalNs - a.totalNs)
    .slice(0, limit)
    .map((s) => [
      s.traceId.slice(0, 16),
      s.service,
      s.node,
      s.syscall,
      String(s.count),
      fmt(s.totalNs),
      fmt(s.totalNs / s.count),
      fmt(s.maxNs),
      String(s.slow.length),
    ]);
}

export const traceCommand: Command = {
  name: "trace",
  usage: `Usage: neurocontroller trace top [--interval 2s] [--limit 30] [--once]

Subscribes to <prefix>/spans/+ on MQTT_URL and prints, every interval, the syscalls with the most
time spent per trace (TRACE = first 16 hex digits of the trace id). --once prints one table and exits.

${CONFIG_FLAGS_HELP}`,
  flags: ["interval", "limit", "once"],
  booleanFlags: ["once"],
  async run(args) {
    if (args.positionals[0] !== "top") throw new UsageError("the only trace subcommand is 'top'");
    let config: Config;
    try {
      config = Config.load({ file: stringFlag(args, "config"), overrides: configOverrides(args) });
    } catch (e) {
      if (e instanceof ConfigError) return (console.error(e.message), EXIT.usage);
      throw e;
    }
    if (!config.str("MQTT_URL")) return (console.error("trace top: MQTT_URL is not set"), EXIT.usage);
    const intervalMs = parseDuration(stringFlag(args, "interval") ?? "2") ?? Number.NaN;
    const limit = Number(stringFlag(args, "limit") ?? 30);
    // setInterval turns anything past 2^31-1 ms into 1 ms: bounded like every configured duration.
    if (!(intervalMs >= 100 && intervalMs <= 3_600_000))
      throw new UsageError("--interval: expected a duration from 100ms to 1h (a bare number means seconds)");
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw new UsageError("--limit: expected a whole number from 1 to 10000");
    const conn = new MqttConnection(mqttOptionsFromConfig(config, { announceStatus: false, clientIdSuffix: cliClientIdSuffix("trace-top") }));
    const agg = new TraceAggregator(Number.MAX_SAFE_INTEGER);
    let refused = 0;
    const sink = { reject: () => void refused++ };
    void conn
      .subscribe(conn.topics.spansAll, (topic, payload) => {
        const b = parseSpanBatch(payload, { sink, topicNode: conn.topics.nodeOf(topic) ?? "" });
        if (b) agg.ingest(b);
      })
      .catch((e) => console.error(`trace top: cannot subscribe: ${(e as Error).message}`));
    const header = ["TRACE", "SERVICE", "NODE", "SYSCALL", "COUNT", "TOTAL", "AVG", "MAX", "SLOW"];
    let window: AggregatedSpan[] = [];
    const draw = () => {
      window = [...window, ...agg.take()].slice(-10_000);
      const out = renderTable(header, topRows(window, limit)) + (refused ? `\n(${refused} malformed span batches ignored)` : "");
      process.stdout.write(`${process.stdout.isTTY && !args.flags.get("once") ? "\x1b[2J\x1b[H" : ""}${out}\n`);
    };
    if (args.flags.get("once")) {
      await new Promise((r) => setTimeout(r, intervalMs));
      draw();
      await conn.close();
      return EXIT.ok;
    }
    const timer = setInterval(draw, intervalMs);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    clearInterval(timer);
    await conn.close();
    return EXIT.ok;
  },
};
