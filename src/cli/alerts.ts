import { Config, ConfigError } from "../config/load.ts";
import { alertLines, incidentLine } from "../channels/alert-lines.ts";
import { channelConfigProblems, mqttOptionsFromConfig } from "../channels/from-config.ts";
import { MqttConnection } from "../channels/mqtt-connection.ts";
import type { AlertGroupData } from "../channels/types.ts";
import { configOverrides, CONFIG_FLAGS_HELP, stringFlag, UsageError, type ParsedArgs } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

export function loadCliConfig(file: string | undefined, args: ParsedArgs): Config | undefined {
  try {
    return Config.load({ file, overrides: configOverrides(args) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    return undefined;
  }
}

/** Connects as a read-only subscriber (no online/offline announcements, a unique client id). */
export async function subscriberConnection(config: Config, timeoutMs = 10_000): Promise<MqttConnection> {
  const problems = channelConfigProblems(config).filter((p) => p.startsWith("MQTT"));
  if (problems.length) throw new UsageError(problems.join("; "));
  if (!config.str("MQTT_URL").trim()) throw new UsageError("MQTT_URL is not set (the broker the controller publishes to)");
  const conn = new MqttConnection(mqttOptionsFromConfig(config, { announceStatus: false, clientIdSuffix: `cli-${process.pid}-${Math.random().toString(16).slice(2, 8)}` }));
  try {
    await conn.waitConnected(timeoutMs);
  } catch (e) {
    await conn.close();
    throw e;
  }
  return conn;
}

/**
 * The retained incident states under <prefix>/incidents/#. The broker sends retained messages right
 * after subscribing; with no end marker in MQTT, "all arrived" means none for `quietMs`.
 */
export async function retainedIncidents(conn: MqttConnection, quietMs = 500, maxMs = 5000): Promise<Map<string, AlertGroupData>> {
  const open = new Map<string, AlertGroupData>();
  let last = Date.now();
  const unsubscribe = await conn.subscribe(conn.topics.incidentsAll, (topic, payload, retained) => {
    last = Date.now();
    if (!retained) return;
    if (payload.length === 0) open.delete(topic);
    else {
      try {
        open.set(topic, JSON.parse(payload.toString()) as AlertGroupData);
      } catch {}
    }
  });
  const start = Date.now();
  while (Date.now() - last < quietMs && Date.now() - start < maxMs) await Bun.sleep(50);
  await unsubscribe();
  return open;
}

export const alertsCommand: Command = {
  name: "alerts",
  summary: "Print the alerts the controller publishes over MQTT (--follow to keep watching)",
  usage: `Usage: neurocontroller alerts [--follow] [--json]

Subscribes to <prefix>/alerts and <prefix>/incidents/# on the broker in MQTT_URL (credentials
MQTT_USERNAME / MQTT_PASSWORD, CA MQTT_CA_FILE, prefix MQTT_TOPIC_PREFIX, default
neurocontroller/<CLUSTER_ID>) and prints one line per alert, coloured on a terminal.

Without --follow: prints the open incidents (retained state) and exits.
--follow: keeps printing alerts as they arrive until interrupted.
--json:   one JSON object per message: {"topic", "retained", "payload"} (payload null = incident cleared).

Exit codes: 0 ok, 1 broker unreachable, 2 usage or configuration error.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["follow", "json"],
  flags: ["follow", "json"],
  async run(args) {
    const config = loadCliConfig(stringFlag(args, "config"), args);
    if (!config) return EXIT.usage;
    const json = !!args.flags.get("json");
    const colour = !json && !!process.stdout.isTTY && !process.env.NO_COLOR;
    let conn: MqttConnection;
    try {
      conn = await subscriberConnection(config);
    } catch (e) {
      console.error(`alerts: ${(e as Error).message}`);
      return e instanceof UsageError ? EXIT.usage : EXIT.error;
    }
    const print = (topic: string, payload: Buffer, retained: boolean) => {
      let data: AlertGroupData | null = null;
      try {
        data = payload.length ? (JSON.parse(payload.toString()) as AlertGroupData) : null;
      } catch {
        if (json) console.log(JSON.stringify({ topic, retained, raw: payload.toString() }));
        return;
      }
      if (json) return console.log(JSON.stringify({ topic, retained, payload: data }));
      if (topic === conn.topics.alerts && data) for (const line of alertLines(data, colour)) console.log(line);
      else if (data && retained) console.log(`open incident ${incidentLine(data, colour)}`);
    };
    if (!args.flags.get("follow")) {
      const open = await retainedIncidents(conn);
      for (const [topic, g] of open) print(topic, Buffer.from(JSON.stringify(g)), true);
      if (!json && open.size === 0) console.error("no open incidents");
      await conn.close();
      return EXIT.ok;
    }
    await conn.subscribe(conn.topics.incidentsAll, (t, p, r) => r && print(t, p, r));
    await conn.subscribe(conn.topics.alerts, print);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await conn.close();
    return EXIT.ok;
  },
};
