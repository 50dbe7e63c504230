// `neurocontroller hosts`: every node's last host-health snapshot (retained on <prefix>/hosts/<node>) as a
// table, with what the Host rules say about it. Also used by `status` to list host problems.
import type { Config } from "../config/load.ts";
import { hostThresholdsFromConfig } from "../hosts/service.ts";
import { hostFindings, isStale, type HostFinding } from "../hosts/rules.ts";
import { parseHostSnapshot, type HostSnapshot } from "../hosts/snapshot.ts";
import type { MqttConnection } from "../mqtt/connection.ts";
import { loadCliConfig, subscriberConnection } from "./alerts.ts";
import { CONFIG_FLAGS_HELP, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { renderTable } from "./table.ts";

/** The retained snapshots, by node (MQTT has no end-of-retained marker: "all arrived" = quiet for `quietMs`). */
export async function retainedHostSnapshots(
  conn: MqttConnection,
  quietMs = 500,
  maxMs = 5000,
): Promise<{ hosts: Map<string, HostSnapshot>; refused: number }> {
  const hosts = new Map<string, HostSnapshot>();
  let refused = 0;
  let last = Date.now();
  const sink = { reject: () => void refused++ };
  const unsubscribe = await conn.subscribe(conn.topics.hostsAll, (topic, payload, retained) => {
    last = Date.now();
    const node = conn.topics.nodeOf(topic);
    if (!retained || node === undefined || payload.length === 0) return;
    const s = parseHostSnapshot(payload, { sink, topicNode: node });
    if (s) hosts.set(node, s);
  });
  const start = Date.now();
  while (Date.now() - last < quietMs && Date.now() - start < maxMs) await Bun.sleep(50);
  await unsubscribe();
  return { hosts, refused };
}

/**
 * What the Host rules say about a retained snapshot, judged by this machine's clock: the CLI cannot see
 * the Node, so a stale snapshot is reported as HostUnreported besides what it said (the controller also
 * checks that the Node is Ready).
 */
export function findingsOf(s: HostSnapshot, config: Config, now: number): HostFinding[] {
  const report = { snapshot: s, receivedAt: Math.min(now, Date.parse(s.time)), skewMs: null };
  const t = hostThresholdsFromConfig(config);
  const last = hostFindings(report, false, now, t); // what the last snapshot says, however old
  return isStale(report, now, t) ? [...hostFindings(report, true, now, t), ...last] : last;
}

const age = (s: HostSnapshot, now: number) => {
  const secs = Math.max(0, Math.round((now - Date.parse(s.time)) / 1000));
  return secs < 120 ? `${secs}s` : secs < 7200 ? `${Math.round(secs / 60)}m` : `${Math.round(secs / 3600)}h`;
};

function throttling(s: HostSnapshot): string {
  const t = s.throttled;
  if (!t) return "-";
  const now = [
    t.underVoltageNow && "UNDER-VOLTAGE",
    t.throttledNow && "THROTTLED",
    t.freqCappedNow && "CAPPED",
    t.softTempLimitNow && "SOFT-LIMIT",
  ].filter(Boolean);
  const boot = [
    t.underVoltageSinceBoot && "under-voltage",
    t.throttledSinceBoot && "throttled",
    t.freqCappedSinceBoot && "capped",
    t.softTempLimitSinceBoot && "soft-limit",
  ].filter(Boolean);
  const parts = [now.length ? now.join(",") : "ok", boot.length ? `(since boot: ${boot.join(",")})` : ""].filter(Boolean);
  return `${parts.join(" ")} ${t.raw}`;
}

function disk(s: HostSnapshot): string {
  const r = s.rootFs;
  if (!r) return "-";
  const used = r.usedPercent === null ? "?" : `${r.usedPercent}%`;
  return `${used}${r.readOnly === true ? " READ-ONLY" : r.readOnly === false ? " rw" : ""}`;
}

function clock(s: HostSnapshot): string {
  const c = s.clock;
  if (!c || c.synchronized === null) return "-";
  return c.synchronized ? "synced" : "NOT SYNCED";
}

function wear(s: HostSnapshot): string {
  const w = s.storage;
  if (!w) return "-";
  return (
    [w.lifeUsedPercent === null ? "" : `≤${w.lifeUsedPercent}%`, w.preEol && w.preEol !== "normal" ? w.preEol.toUpperCase() : ""]
      .filter(Boolean)
      .join(" ") || "-"
  );
}

/** Table rows, one per node, sorted by node name. Exported for tests. */
export function hostRows(hosts: Map<string, HostSnapshot>, config: Config, now: number): string[][] {
  return [...hosts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([node, s]) => [
      node,
      s.temperature ? `${s.temperature.celsius.toFixed(1)}°C` : "-",
      throttling(s),
      disk(s),
      clock(s),
      wear(s),
      age(s, now),
      findingsOf(s, config, now)
        .map((f) => `${f.reason}(${f.severity})`)
        .join(" ") || "ok",
    ]);
}

export const hostsCommand: Command = {
  name: "hosts",
  usage: `Usage: neurocontroller hosts [--json]

Reads the agents' retained snapshots on <prefix>/hosts/+ (MQTT_URL) and prints one row per node:
SoC temperature, firmware throttling flags (now, and since boot), root filesystem use and read-only
state, NTP synchronisation, SD/eMMC wear, the age of the report, and what the Host rules say about it
(thresholds HOST_*; docs/host-health.md). "-" means the figure is absent on that node, never healthy.
--json prints the snapshots as received.

Exit codes: 0 no host problem, 3 at least one host problem, 1 broker unreachable, 2 configuration error.

${CONFIG_FLAGS_HELP}`,
  flags: ["json"],
  booleanFlags: ["json"],
  async run(args) {
    const config = loadCliConfig(stringFlag(args, "config"), args);
    if (!config) return EXIT.usage;
    let conn: MqttConnection;
    try {
      conn = await subscriberConnection(config, 5000);
    } catch (e) {
      console.error(`hosts: ${(e as Error).message}`);
      return e instanceof UsageError ? EXIT.usage : EXIT.error;
    }
    const { hosts, refused } = await retainedHostSnapshots(conn);
    await conn.close();
    const now = Date.now();
    const problems = [...hosts.values()].some((s) => findingsOf(s, config, now).length > 0);
    if (args.flags.get("json")) {
      console.log(JSON.stringify(Object.fromEntries(hosts), null, 2));
      return problems ? EXIT.firing : EXIT.ok;
    }
    if (!hosts.size) console.log("no host-health report on the broker (is the agent running with HOST_HEALTH_ENABLE=true?)");
    else console.log(renderTable(["NODE", "TEMP", "THROTTLING", "ROOT FS", "CLOCK", "SD WEAR", "AGE", "PROBLEMS"], hostRows(hosts, config, now)));
    if (refused) console.log(`(${refused} malformed host snapshots ignored)`);
    return problems ? EXIT.firing : EXIT.ok;
  },
};
