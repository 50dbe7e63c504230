// `neurocontroller changes`: the recent change history recorded by the controller (docs/changes.md), read
// from the state database on the controller's host.
import { termText } from "../boundary/terminal.ts";
import { parseDuration } from "../config/units.ts";
import { actorOf, type ChangeRecord } from "../model/change.ts";
import { readChanges } from "../store/change-store.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

export function changeLine(c: ChangeRecord): string {
  const object = c.namespace ? `${c.namespace}/${c.name}` : c.name;
  const what = c.lines.filter((l) => l !== c.verb).join("; ");
  const who = actorOf(c) ?? "unknown";
  return termText(`${new Date(c.time).toISOString()} ${c.verb.padEnd(10)} ${c.kind} ${object} by ${who}${what ? `: ${what}` : ""}`);
}

export const changesCommand: Command = {
  name: "changes",
  usage: `Usage: neurocontroller changes [--namespace N] [--since 1h] [--json]

Changes the controller recorded (docs/changes.md): workload template and scale changes, ConfigMap and
Secret changes (key names and a hash, never values), node cordon/taint/label changes, HPA changes, and
exec/attach/port-forward sessions from the audit webhook; oldest first, with the actor (the audit user
and/or the field manager) and the short diff. Reads the state database in NEURO_STATE_DIR.

  --namespace N   only this namespace (cluster-scoped objects such as Nodes have none)
  --since D       how far back (default 1h; e.g. 30m, 24h)
  --json          one JSON array of change records

Exit codes: 0 printed, 1 no state database, 2 usage error.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json"],
  flags: ["json", "namespace", "since"],
  async run(args) {
    const config = loadCommandConfig(args);
    const since = parseDuration(stringFlag(args, "since") ?? "1h");
    if (since === undefined) throw new UsageError("--since needs a duration such as 30m or 24h");
    const namespace = stringFlag(args, "namespace");
    const rows = readChanges(config.str("NEURO_STATE_DIR"), { sinceMs: Date.now() - since, namespace, limit: 10_000 });
    if (!rows) {
      console.error(`changes: no state database in ${config.str("NEURO_STATE_DIR")} (run this on the controller's host, or set --state-dir)`);
      return EXIT.error;
    }
    if (args.flags.get("json")) console.log(JSON.stringify(rows, null, 2));
    else if (!rows.length) console.log("no changes recorded in that window");
    else for (const c of rows) console.log(changeLine(c));
    return EXIT.ok;
  },
};
