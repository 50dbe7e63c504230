import { parseJsonAt, z, type RejectSink } from "../boundary/reject.ts";
import { termText } from "../boundary/terminal.ts";
import { Config, ConfigError } from "../config/load.ts";
import { alertLines, incidentLine } from "../channels/alert-lines.ts";
import { channelConfigProblems } from "../channels/from-config.ts";
import { MqttConnection } from "../mqtt/connection.ts";
import { cliClientIdSuffix, mqttOptionsFromConfig } from "../mqtt/options.ts";
import type { AlertGroupData } from "../channels/types.ts";
import { configOverrides, CONFIG_FLAGS_HELP, stringFlag, UsageError, type ParsedArgs } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

/** Published AlertGroupData is at most a few hundred alerts; 1 MiB leaves room. */
export const ALERT_PAYLOAD_MAX_BYTES = 1024 * 1024;
/**
 * A printed field: whoever can publish may put a number, a boolean or an object where a string
 * belongs; it is printed as text (bounded) rather than refusing the whole incident.
 */
const asText = (v: unknown) => (v === null || v === undefined ? undefined : typeof v === "object" ? JSON.stringify(v) : String(v));
const text = z.preprocess(asText, z.string().max(16 * 1024));
const optText = z.preprocess(
  asText,
  z
    .string()
    .max(16 * 1024)
    .optional(),
);
/** The fields the CLI prints, type-checked (other fields pass through to --json untouched). */
export const alertGroupViewSchema = z.looseObject({
  status: text,
  incidentId: text,
  clusterId: optText,
  level: text,
  title: text,
  alertCount: z.number().int().nonnegative(),
  nodeList: z.array(text).max(1000),
  alerts: z
    .array(
      z.looseObject({
        time: text,
        severity: text,
        kind: text,
        name: text,
        namespace: optText,
        node: optText,
        reason: text,
        message: text,
      }),
    )
    .max(1000)
    .default([]),
});

/** Strings printed to a terminal: escape sequences and control characters removed (the one termText). */
function printable<T>(v: T): T {
  if (typeof v === "string") return termText(v) as T;
  if (Array.isArray(v)) return v.map(printable) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, printable(x)])) as T;
  return v;
}

/** An alert or incident payload, or undefined (refused, counted by `sink`). Empty = a cleared incident. */
export function parseAlertPayload(payload: Buffer, sink: RejectSink): AlertGroupData | null | undefined {
  if (payload.length === 0) return null;
  const r = parseJsonAt(alertGroupViewSchema, payload, { source: "mqtt.alert", sink, maxBytes: ALERT_PAYLOAD_MAX_BYTES });
  return r.ok ? (r.value as unknown as AlertGroupData) : undefined;
}

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
  const conn = new MqttConnection(mqttOptionsFromConfig(config, { announceStatus: false, clientIdSuffix: cliClientIdSuffix("cli") }));
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
    const data = parseAlertPayload(payload, { reject() {} });
    if (data === null) open.delete(topic);
    else if (data) open.set(topic, data);
  });
  const start = Date.now();
  while (Date.now() - last < quietMs && Date.now() - start < maxMs) await Bun.sleep(50);
  await unsubscribe();
  return open;
}

export const alertsCommand: Command = {
  name: "alerts",
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
    const refusals: RejectSink = {
      reject: (_source, reason) =>
        console.error(`alerts: ignored a malformed message on ${printable(topicOf.current)}: ${printable(reason).slice(0, 300)}`),
    };
    const topicOf = { current: "" };
    const print = (topic: string, payload: Buffer, retained: boolean) => {
      topicOf.current = topic;
      const data = parseAlertPayload(payload, refusals);
      if (data === undefined) return;
      if (json) return console.log(JSON.stringify({ topic, retained, payload: data }));
      const shown = data && printable(data);
      if (topic === conn.topics.alerts && shown) for (const line of alertLines(shown, colour)) console.log(line);
      else if (shown && retained) console.log(`open incident ${incidentLine(shown, colour)}`);
    };
    if (!args.flags.get("follow")) {
      const open = await retainedIncidents(conn);
      for (const [topic, g] of open) print(topic, Buffer.from(JSON.stringify(g)), true);
      if (!json && open.size === 0) console.error("no open incidents");
      await conn.close();
      return EXIT.ok;
    }
    // Alerts first: once the retained incident state shows up, both subscriptions are in place.
    await conn.subscribe(conn.topics.alerts, print);
    await conn.subscribe(conn.topics.incidentsAll, (t, p, r) => r && print(t, p, r));
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await conn.close();
    return EXIT.ok;
  },
};
