// `neurocontroller heal status|pause|resume|history`: what healing is doing, the switch to stop it, and what it did.
// status and pause/resume talk to the cluster (node annotations, the ConfigMap <LEADER_LEASE_NAME>-healing);
// history reads this node's state.db (the leader's record of every decision).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hostname, userInfo } from "node:os";
import { termText } from "../boundary/terminal.ts";
import { HEALING_ANNOTATION, readHealingState } from "../healing/annotation.ts";
import { isReady } from "../healing/facts.ts";
import { HealingPauseStore, healingConfigMapName } from "../healing/pause.ts";
import { healingSettings } from "../healing/settings.ts";
import { KubeClient } from "../kube/client.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { ActionHistory } from "../store/action-history.ts";
import { openStateDatabase, STATE_FILE_NAME } from "../store/db.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { renderTable } from "./table.ts";
import { sendSignedCommand } from "./silence-mqtt.ts";
import { HEALING_COMMAND_KIND } from "../healing/pause-command.ts";

function whoami(): string {
  try {
    return `${process.env.SUDO_USER || userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

const NODES = { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false };

export const healCommand: Command = {
  name: "heal",
  usage: `Usage: neurocontroller heal status [--json]
       neurocontroller heal pause [--reason TEXT]
       neurocontroller heal resume
       neurocontroller heal history [--since 24h] [--json]

status   nodes under remediation (from their ${HEALING_ANNOTATION} annotation), the pause switch and the limits in force
pause    stop every healing step (persisted in the ConfigMap <LEADER_LEASE_NAME>-healing, seen by whichever controller leads)
resume   allow healing again
history  the healing decisions recorded in this node's state.db (run it on the leader's node)

  --kubeconfig PATH, --context NAME   the cluster (as for scan)
  --mqtt     pause/resume through the leading controller over MQTT instead (no kubeconfig needed), signed
             with MQTT_COMMAND_KEY like silence commands; the signer (MQTT_COMMAND_SIGNER) is who paused
See docs/healing.md.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json", "mqtt"],
  flags: ["kubeconfig", "context", "json", "reason", "since", "mqtt"],
  async run(args) {
    const [action] = args.positionals;
    if (!action || !["status", "pause", "resume", "history"].includes(action)) throw new UsageError("expected status, pause, resume or history");
    const config = loadCommandConfig(args);
    const json = Boolean(args.flags.get("json"));
    if (action === "history") {
      const file = join(config.str("NEURO_STATE_DIR"), STATE_FILE_NAME);
      if (!existsSync(file)) {
        console.error(`heal: no state database at ${file} (history is kept by the controller on this node)`);
        return EXIT.error;
      }
      const since = stringFlag(args, "since");
      const sinceMs = since ? Date.now() - parseSince(since) : 0;
      const db = openStateDatabase(config.str("NEURO_STATE_DIR"));
      try {
        const records = new ActionHistory(db).list({ source: "healing", sinceMs });
        if (json) for (const r of records) console.log(JSON.stringify(r));
        else
          console.log(
            renderTable(
              ["TIME", "MODE", "STEP", "OUTCOME", "SUMMARY"],
              records.map((r) => [r.time, r.mode, r.step, r.outcome, r.summary]),
            ),
          );
      } finally {
        db.close();
      }
      return EXIT.ok;
    }
    if ((action === "pause" || action === "resume") && args.flags.get("mqtt")) {
      const reason = stringFlag(args, "reason");
      const signer = config.str("MQTT_COMMAND_SIGNER") || whoami();
      const r = await sendSignedCommand(config, HEALING_COMMAND_KIND, { action, ...(reason ? { reason } : {}) }, signer, "healing");
      if (!r.ok) {
        console.error(termText(`heal: the controller refused: ${r.error ?? "unknown reason"}`));
        return EXIT.error;
      }
      console.log(termText(`healing ${action === "pause" ? "paused" : "resumed"} by ${signer} (via MQTT)`));
      return EXIT.ok;
    }
    const conn = loadConnection({ kubeconfig: stringFlag(args, "kubeconfig"), context: stringFlag(args, "context") });
    if (!conn) {
      console.error("heal: no cluster found; pass --kubeconfig");
      return EXIT.error;
    }
    const client = new KubeClient(conn);
    const pause = new HealingPauseStore(client, config.str("LEADER_LEASE_NAMESPACE"), healingConfigMapName(config.str("LEADER_LEASE_NAME")));
    if (action === "pause" || action === "resume") {
      const state = { paused: action === "pause", by: whoami(), at: new Date().toISOString(), reason: stringFlag(args, "reason") };
      await pause.set(state);
      console.log(termText(`healing ${action === "pause" ? "paused" : "resumed"} by ${state.by}`));
      return EXIT.ok;
    }
    const s = healingSettings(config);
    const switchState = await pause.read();
    const nodes = (await client.list(NODES)).items;
    const rows = nodes.flatMap((n) => {
      const st = readHealingState(n.metadata.annotations, { reject() {} });
      return st ? [{ node: n.metadata.name, ready: isReady(n), ...st }] : [];
    });
    if (json) {
      console.log(JSON.stringify({ mode: s.mode, paused: switchState?.paused ?? false, pause: switchState, limits: s, nodes: rows }));
      return EXIT.ok;
    }
    console.log(termText(`mode ${s.mode}${switchState?.paused ? ` — PAUSED by ${switchState.by} at ${switchState.at}` : ""}`));
    console.log(
      termText(
        `limits: min healthy ${s.minHealthyPercent}%, max concurrent ${s.maxConcurrent}, cooldown ${s.cooldownMs / 1000}s, ` +
          `NotReady after ${s.notReadyAfterMs / 1000}s, drain timeout ${s.drainTimeoutMs / 1000}s, ` +
          `force after ${s.forceAfterMs ? `${s.forceAfterMs / 1000}s` : "never"}, uncordon after ${s.uncordonAfterMs / 1000}s, ` +
          `control plane ${s.controlPlane ? "yes" : "no"}, unmanaged pods ${s.drainUnmanaged ? "yes" : "no"}`,
      ),
    );
    console.log(
      rows.length
        ? renderTable(
            ["NODE", "READY", "PHASE", "SINCE", "CORDONED BY US"],
            rows.map((r) => [r.node, r.ready ? "yes" : "no", r.phase, r.cordonedAt, r.cordonedByUs ? "yes" : "no"]),
          )
        : "no node under remediation",
    );
    return EXIT.ok;
  },
};

function parseSince(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) throw new UsageError("--since expects a duration like 30m, 24h or 7d");
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
}
