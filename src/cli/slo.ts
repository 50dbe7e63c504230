// `neurocontroller slo status|pause|resume`: what the SLO engine sees and has done (from the local
// controller's /slo/status), and a cluster-wide pause stored beside the Lease (docs/slo.md).
import { hostname, userInfo } from "node:os";
import { termText } from "../boundary/terminal.ts";
import { httpListen } from "../config/effective.ts";
import { KubeClient } from "../kube/client.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import type { ActionRecord } from "../model/action.ts";
import type { PairReport } from "../slo/burn.ts";
import { SloPauseDocument } from "../slo/pause.ts";
import type { SloStatus } from "../slo/service.ts";
import { SLO_STATUS_PATH } from "../slo/status-route.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { renderTable } from "./table.ts";

function whoami(): string {
  try {
    return `${process.env.SUDO_USER || userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

const span = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

function burnText(pairs: PairReport[] | undefined): string {
  if (!pairs) return "not judged (no trace metrics)";
  return pairs
    .map((p) => {
      if (!p.judged) return `${span(p.longMs)}/${span(p.shortMs)}: too little traffic`;
      const parts: string[] = [];
      if (p.errorBurn) parts.push(`errors ${p.errorBurn.map((b) => `${b.toFixed(1)}×`).join("/")}`);
      if (p.latencyMs) parts.push(`latency ${p.latencyMs.map((v) => (v === undefined ? "-" : `${Math.round(v)}ms`)).join("/")}`);
      return `${span(p.longMs)}/${span(p.shortMs)}: ${parts.join(", ")}${p.burning ? " BURNING" : ""}`;
    })
    .join("; ");
}

function printStatus(s: SloStatus): void {
  const pause = s.paused ? `paused by ${s.paused.by || "?"} since ${s.paused.since || "?"}` : "active";
  console.log(termText(`SLO_MODE ${s.mode} · ${pause} · ${s.leading ? "this controller leads" : "this controller is not the leader"}`));
  if (s.policies.length === 0) console.log("no SLO policies");
  else {
    const rows = s.policies.map(({ policy: p, replicas, report }) => {
      const obj = [
        p.objectives.latency ? `p${+(p.objectives.latency.quantile * 100).toFixed(2)} ≤ ${p.objectives.latency.thresholdMs}ms` : "",
        p.objectives.errorRatio !== undefined ? `errors ≤ ${+(p.objectives.errorRatio * 100).toFixed(3)}%` : "",
      ].filter(Boolean);
      const scale = p.scale ? `${replicas ?? "?"} in [${p.scale.min},${p.scale.max}]` : `${replicas ?? "?"}`;
      return [p.name, `${p.namespace}/${p.deployment}`, obj.join(", "), scale, p.actions.join(",") || "-", burnText(report?.pairs)];
    });
    console.log(termText(renderTable(["POLICY", "DEPLOYMENT", "OBJECTIVES", "REPLICAS", "ACTIONS", "BURN (long/short)"], rows)));
  }
  for (const e of s.errors) console.log(termText(`invalid policy: ${e.where}: ${e.message}`));
  const recent: ActionRecord[] = s.actions.slice(-10);
  if (recent.length) {
    console.log("last actions:");
    for (const a of recent) console.log(termText(`  ${a.time} ${a.outcome.padEnd(8)} ${a.summary} — ${a.reason}`));
  }
}

export const sloCommand: Command = {
  name: "slo",
  usage: `Usage: neurocontroller slo status [--json]
       neurocontroller slo pause [--author NAME]
       neurocontroller slo resume [--author NAME]

status asks the controller on this host (NEURO_HTTP_ADDR, loopback) for its SLO mode, each policy's
objectives and current burn, invalid policies and the last actions.
pause/resume write the ConfigMap <LEADER_LEASE_NAME>-slo (namespace LEADER_LEASE_NAMESPACE): while
paused the leader decides nothing (no rollback, no scaling); the pause survives restarts and failover.

  --kubeconfig PATH, --context NAME   the cluster (pause/resume)

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json"],
  flags: ["kubeconfig", "context", "author", "json"],
  async run(args) {
    const [action] = args.positionals;
    if (!action || !["status", "pause", "resume"].includes(action)) throw new UsageError("expected status, pause or resume");
    const config = loadCommandConfig(args);
    if (action === "status") {
      const listen = httpListen(config);
      if (!listen) {
        console.error("slo status: NEURO_HTTP_ADDR disables the controller's HTTP endpoint (port 0)");
        return EXIT.error;
      }
      const host = listen.hostname === "0.0.0.0" || listen.hostname === "::" ? "127.0.0.1" : listen.hostname;
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${listen.port}${SLO_STATUS_PATH}`;
      let status: SloStatus;
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        status = (await r.json()) as SloStatus;
      } catch (e) {
        console.error(`slo status: no controller answered at ${url}: ${(e as Error).message}`);
        return EXIT.error;
      }
      if (args.flags.get("json")) console.log(JSON.stringify(status));
      else printStatus(status);
      return EXIT.ok;
    }
    const conn = loadConnection({ kubeconfig: stringFlag(args, "kubeconfig"), context: stringFlag(args, "context") });
    if (!conn) {
      console.error(`slo ${action}: no cluster found (the pause is stored in the cluster); pass --kubeconfig`);
      return EXIT.error;
    }
    const doc = SloPauseDocument.beside(new KubeClient(conn), config);
    const written = await doc.set(action === "pause", stringFlag(args, "author") ?? whoami(), new Date());
    const state = action === "pause" ? "paused" : "resumed";
    console.log(written ? `SLO actions ${state} (${doc.where})` : `SLO actions were already ${state} (${doc.where})`);
    return EXIT.ok;
  },
};
