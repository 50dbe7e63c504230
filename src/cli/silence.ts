import { hostname, userInfo } from "node:os";
import { termText } from "../boundary/terminal.ts";
import { formatMatchers, isActive, SilenceError, type Silence } from "../alerting/silence.ts";
import { SilenceStore } from "../alerting/silence-store.ts";
import { KubeClient } from "../kube/client.ts";
import { loadConnection } from "../kube/kubeconfig.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";
import { renderTable } from "./table.ts";
import { sendSilenceCommand } from "./silence-mqtt.ts";

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
  usage: `Usage: neurocontroller silence add MATCHER... --duration 2h --comment TEXT [--author NAME]
       neurocontroller silence ls [--all] [--json]
       neurocontroller silence rm ID

Matchers: namespace, kind, name, reason, node with = or != and * wildcards, e.g.
  neurocontroller silence add namespace=shop name='cart-*' reason=CrashLoopBackOff --duration 2h --comment "rolling out cart v2"
A silenced alert is still logged to cleaned_events.log; only notifications are held back.
Silences live in the ConfigMap <LEADER_LEASE_NAME>-silences (namespace LEADER_LEASE_NAMESPACE), so
every controller sees them and they survive failover; expired ones stay listed for 7 days (audit).
Durations are limited by SILENCE_MAX_DURATION (default 30d); rm needs the exact id.

  --kubeconfig PATH, --context NAME   the cluster (as for scan)
  --mqtt     send add/rm to the leading controller over MQTT instead (no kubeconfig needed), signed
             with MQTT_COMMAND_KEY; the signer (MQTT_COMMAND_SIGNER, default user@host) becomes
             createdBy. The signed format, for scripts, is in docs/security.md.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["all", "json", "mqtt"],
  flags: ["kubeconfig", "context", "duration", "comment", "author", "all", "json", "mqtt"],
  async run(args) {
    const [action, ...rest] = args.positionals;
    if (!action || !["add", "ls", "list", "rm", "expire"].includes(action)) throw new UsageError("expected add, ls or rm");
    const config = loadCommandConfig(args);
    if (args.flags.get("mqtt")) return viaMqtt(action, rest, args, config);
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
          {
            matchers: rest.join(" "),
            duration: stringFlag(args, "duration"),
            comment: stringFlag(args, "comment"),
            createdBy: stringFlag(args, "author") ?? whoami(),
          },
          now,
          { maxDurationMs: config.ms("SILENCE_MAX_DURATION") },
        );
        console.log(
          args.flags.get("json") ? JSON.stringify(s) : termText(`silence ${s.id} added: ${formatMatchers(s.matchers)} until ${iso(s.endsAt)}`),
        );
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
      let expired: Silence[];
      try {
        expired = await store.expire(id, now);
      } catch (e) {
        if (!(e instanceof SilenceError)) throw e;
        console.error(`silence: ${e.problems.join("\n  ")}`);
        return EXIT.usage;
      }
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
    console.log(
      renderTable(
        ["ID", "STATE", "ENDS", "CREATED BY", "MATCHERS", "COMMENT"],
        shown.map((s) => [s.id, state(s), iso(s.endsAt), s.createdBy, formatMatchers(s.matchers), s.comment]),
      ),
    );
    return EXIT.ok;
  },
};

async function viaMqtt(
  action: string,
  rest: string[],
  args: Parameters<Command["run"]>[0],
  config: ReturnType<typeof loadCommandConfig>,
): Promise<number> {
  let payload: Record<string, unknown>;
  if (action === "add") {
    if (rest.length === 0) throw new UsageError("add needs at least one matcher, e.g. namespace=shop");
    payload = { action: "add", matchers: rest.join(" "), duration: stringFlag(args, "duration"), comment: stringFlag(args, "comment") ?? "" };
  } else if (action === "rm" || action === "expire") {
    if (!rest[0]) throw new UsageError("rm needs a silence id (see 'silence ls')");
    payload = { action: "expire", id: rest[0] };
  } else throw new UsageError("over MQTT only add and rm are possible; ls reads the cluster (--kubeconfig)");
  const signer = config.str("MQTT_COMMAND_SIGNER").trim() || stringFlag(args, "author") || whoami();
  let r: Awaited<ReturnType<typeof sendSilenceCommand>>;
  try {
    r = await sendSilenceCommand(config, payload, signer);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    console.error(`silence: ${(e as Error).message}`);
    return EXIT.error;
  }
  if (args.flags.get("json")) console.log(JSON.stringify(r));
  else if (r.ok) console.log(`silence ${r.id} ${r.action === "add" ? "added" : "expired"} (signed by ${signer})`);
  if (!r.ok) console.error(`silence: refused by the controller: ${r.error ?? "unknown reason"}`);
  return r.ok ? EXIT.ok : EXIT.usage;
}
