import { hostname, userInfo } from "node:os";
import { termText } from "../boundary/terminal.ts";
import { formatMatchers, isActive, SilenceError, type Silence } from "../alerting/silence.ts";
import { SilenceStore } from "../alerting/silence-store.ts";
import { KubeClient } from "../kube/client.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
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

/** RFC 3339 to the second; "?" for a value that is not a time (the ConfigMap is writable by others). */
const iso = (ms: unknown) => {
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? "?" : d.toISOString().replace(/\.\d+Z$/, "Z");
};

export const silenceCommand: Command = {
  name: "silence",
  summary: "Add, list or expire silences (stored in the cluster, shared by every controller)",
  usage: `Usage: neurocontroller silence add MATCHER... --duration 2h --comment TEXT [--author NAME]
       neurocontroller silence ls [--all] [--json]
       neurocontroller silence rm ID

Matchers: namespace, kind, name, reason, node with = or != and * wildcards, e.g.
  neurocontroller silence add namespace=shop name='cart-*' reason=CrashLoopBackOff --duration 2h --comment "rolling out cart v2"
A silenced alert is still logged to cleaned_events.log; only notifications are held back.
Silences live in the ConfigMap <LEADER_LEASE_NAME>-silences (namespace LEADER_LEASE_NAMESPACE), so
every controller sees them and they survive failover; expired ones stay listed for 7 days (audit).
The same commands can be sent over MQTT to <prefix>/silences/set:
  {"action":"add","matchers":"namespace=shop","duration":"2h","createdBy":"me","comment":"why"}
  {"action":"expire","id":"<id>"}

  --kubeconfig PATH, --context NAME   the cluster (as for scan)

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["all", "json"],
  flags: ["kubeconfig", "context", "duration", "comment", "author", "all", "json"],
  async run(args) {
    const [action, ...rest] = args.positionals;
    if (!action || !["add", "ls", "list", "rm", "expire"].includes(action)) throw new UsageError("expected add, ls or rm");
    const config = loadCommandConfig(args);
    const conn = loadConnection({ kubeconfig: stringFlag(args, "kubeconfig"), context: stringFlag(args, "context") });
    if (!conn) {
      console.error("silence: no cluster found (silences are stored in the cluster); pass --kubeconfig");
      return EXIT.error;
    }
    const store = new SilenceStore(new KubeClient(conn), config.str("LEADER_LEASE_NAMESPACE"), `${config.str("LEADER_LEASE_NAME")}-silences`);
    const now = Date.now();
    if (action === "add") {
      if (rest.length === 0) throw new UsageError("add needs at least one matcher, e.g. namespace=shop");
      try {
        const s = await store.add(
          { matchers: rest.join(" "), duration: stringFlag(args, "duration"), comment: stringFlag(args, "comment"), createdBy: stringFlag(args, "author") ?? whoami() },
          now,
        );
        console.log(args.flags.get("json") ? JSON.stringify(s) : termText(`silence ${s.id} added: ${formatMatchers(s.matchers)} until ${iso(s.endsAt)}`));
        return EXIT.ok;
      } catch (e) {
        if (!(e instanceof SilenceError)) throw e;
        console.error(`silence: ${e.problems.map(termText).join("\n  ")}`);
        return EXIT.usage;
      }
    }
    if (action === "rm" || action === "expire") {
      const id = rest[0];
      if (!id) throw new UsageError("rm needs a silence id (see 'silence ls')");
      const expired = await store.expire(id, now);
      if (expired.length === 0) {
        console.error(`silence: no active silence with id ${id}`);
        return EXIT.error;
      }
      for (const s of expired) console.log(termText(`silence ${s.id} expired`));
      return EXIT.ok;
    }
    const all = await store.list();
    const shown = args.flags.get("all") ? all : all.filter((s) => isActive(s, now) || s.startsAt > now);
    if (args.flags.get("json")) {
      for (const s of shown) console.log(JSON.stringify(s));
      return EXIT.ok;
    }
    const state = (s: Silence) => (isActive(s, now) ? "active" : s.startsAt > now ? "pending" : "expired");
    console.log(renderTable(["ID", "STATE", "ENDS", "CREATED BY", "MATCHERS", "COMMENT"], shown.map((s) => [s.id, state(s), iso(s.endsAt), s.createdBy, formatMatchers(s.matchers), s.comment])));
    return EXIT.ok;
  },
};
