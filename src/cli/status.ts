import { termText } from "../boundary/terminal.ts";
import { incidentLine } from "../channels/alert-lines.ts";
import type { AlertGroupData } from "../channels/types.ts";
import { IGNORE_REJECTS } from "../boundary/reject.ts";
import { httpListen } from "../config/effective.ts";
import { fetchStatusView, statusLines } from "../status/remote.ts";
import type { StatusView } from "../status/view-model.ts";
import { localStatus } from "../store/local-status.ts";
import { loadCliConfig, retainedIncidents, subscriberConnection } from "./alerts.ts";
import { CONFIG_FLAGS_HELP, stringFlag } from "./args.ts";
import { findingsOf, retainedHostSnapshots } from "./hosts.ts";
import { EXIT, type Command } from "./command.ts";

export const statusCommand: Command = {
  name: "status",
  usage: `Usage: neurocontroller status [--json] [--url http://node:9873]

First the controller's own view — the one its status page shows (docs/status-page.md): verdict, open
incidents with their root-cause chain and likely trigger, nodes and host health, recent actions,
silences, last alerts — read from /api/v1/status on NEURO_HTTP_ADDR (or --url, another node's page;
WEB_TOKEN is sent when set). Then open incidents from the broker's retained <prefix>/incidents/# topics (when MQTT_URL is set) and,
on the controller's own host, from the state database in NEURO_STATE_DIR (incidents whose last
notification was "firing", plus undelivered and dead-lettered notifications per channel).
Host problems from the agents' retained host-health snapshots (<prefix>/hosts/+) are listed below them.

Exit codes: 0 no open incident, 3 incidents open, 1 nothing could be read, 2 configuration error.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json"],
  flags: ["json", "url"],
  async run(args) {
    const config = loadCliConfig(stringFlag(args, "config"), args);
    if (!config) return EXIT.usage;
    const colour = !!process.stdout.isTTY && !process.env.NO_COLOR;
    let fromMqtt: AlertGroupData[] | undefined;
    let mqttError: string | undefined;
    const hostProblems: { node: string; reason: string; severity: string; message: string }[] = [];
    if (config.str("MQTT_URL").trim()) {
      try {
        const conn = await subscriberConnection(config, 5000);
        fromMqtt = [...(await retainedIncidents(conn)).values()];
        const now = Date.now();
        for (const [node, s] of (await retainedHostSnapshots(conn)).hosts)
          hostProblems.push(...findingsOf(s, config, now).map((f) => ({ node, ...f })));
        await conn.close();
      } catch (e) {
        mqttError = (e as Error).message;
      }
    }
    const local = localStatus(config.str("NEURO_STATE_DIR"));
    const listen = httpListen(config);
    const base =
      stringFlag(args, "url") ??
      (listen ? `http://${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${listen.port}` : undefined);
    const fetched = base ? await fetchStatusView(base, config.str("WEB_TOKEN"), IGNORE_REJECTS) : undefined;
    const view: StatusView | undefined = fetched instanceof Error ? undefined : fetched;
    if (fetched instanceof Error) console.error(`status page: ${fetched.message}`);
    if (!fromMqtt && !local && !view) {
      console.error(`status: no source: ${mqttError ?? "MQTT_URL is not set"}; no state database in ${config.str("NEURO_STATE_DIR")}`);
      return EXIT.error;
    }
    const openCount = view?.incidents.length ?? fromMqtt?.length ?? local?.open.length ?? 0;
    if (args.flags.get("json")) {
      console.log(
        JSON.stringify({ view: view ?? null, mqtt: fromMqtt ?? null, mqttError: mqttError ?? null, local: local ?? null, hostProblems }, null, 2),
      );
      return openCount ? EXIT.firing : EXIT.ok;
    }
    if (view) for (const line of statusLines(view)) console.log(line);
    if (fromMqtt && !view) {
      console.log(`open incidents (MQTT ${termText(config.str("MQTT_TOPIC_PREFIX")) || "retained state"}): ${fromMqtt.length}`);
      for (const g of fromMqtt) console.log(`  ${incidentLine(g, colour)}`);
    } else if (mqttError) console.error(`MQTT: ${mqttError}`);
    if (hostProblems.length) console.log(`host problems (neurocontroller hosts): ${hostProblems.length}`);
    for (const p of hostProblems) console.log(`  ${termText(p.node)}: ${termText(p.reason)} [${termText(p.severity)}] ${termText(p.message)}`);
    if (local) {
      if (!fromMqtt && !view) {
        console.log(`open incidents (local state): ${local.open.length}`);
        for (const i of local.open) {
          const when = Number.isFinite(Number(i.deliveredAt)) ? new Date(Number(i.deliveredAt)).toISOString() : "?";
          console.log(`  ${termText(i.incidentId)} [${termText(i.level)}] ${termText(i.title)} — ${termText(i.alertCount)} alerts, notified ${when}`);
          if (i.trigger) console.log(`    likely trigger: ${termText(i.trigger)}`);
        }
      }
      for (const [channel, c] of Object.entries(local.outbox))
        console.log(`outbox ${termText(channel)}: ${c.pending} pending, ${c.dead} dead-lettered`);
    }
    return openCount ? EXIT.firing : EXIT.ok;
  },
};
