// `neurocontroller audit`: the tamper-evident action log (audit.log in NEURO_LOG_DIR, docs/audit.md) — list the
// entries, or --verify the hash chain and name the first broken entry.
import { termText } from "../boundary/terminal.ts";
import { parseDuration } from "../config/units.ts";
import { actionTargetText } from "../model/action.ts";
import { auditFiles, readAuditLog, verifyAuditLog } from "../actions/audit-log.ts";
import { CONFIG_FLAGS_HELP, loadCommandConfig, stringFlag, UsageError } from "./args.ts";
import { EXIT, type Command } from "./command.ts";

export const auditCommand: Command = {
  name: "audit",
  usage: `Usage: neurocontroller audit [--since 1h] [--json] [--verify]

Every action the controller took or was told to take (healing steps, SLO rollbacks and scalings, silences,
configuration loads), from audit.log and its rotated files in NEURO_LOG_DIR, oldest first. Each entry
carries the SHA-256 of the previous one.

  --since D    how far back (default 24h; e.g. 1h, 7d is written 168h)
  --json       one JSON array of entries
  --verify     check the whole hash chain; names the first edited, deleted or reordered entry

Exit codes: 0 printed (or the chain is intact), 1 the chain is broken or no log could be read, 2 usage error.

${CONFIG_FLAGS_HELP}`,
  booleanFlags: ["json", "verify"],
  flags: ["json", "verify", "since"],
  async run(args) {
    const config = loadCommandConfig(args);
    const dir = config.str("NEURO_LOG_DIR");
    const files = config.num("AUDIT_LOG_MAX_FILES") + 1;
    if (!auditFiles(dir, files).length) {
      console.error(`audit: no audit.log in ${termText(dir)} (run this on a controller's host, or set --log-dir)`);
      return EXIT.error;
    }
    if (args.flags.get("verify")) {
      const r = verifyAuditLog(dir, files);
      if (args.flags.get("json")) console.log(JSON.stringify(r, null, 2));
      else if (r.ok) console.log(`audit.log chain intact: ${r.entries} entries verified in ${termText(dir)}`);
      else {
        const b = r.broken!;
        console.log(
          termText(`audit.log chain BROKEN at ${b.file} line ${b.line}${b.seq !== undefined ? ` (entry ${b.seq})` : ""}: ${b.problem}`) +
            `; ${r.entries} entries before it verified`,
        );
      }
      return r.ok ? EXIT.ok : EXIT.error;
    }
    const since = parseDuration(stringFlag(args, "since") ?? "24h");
    if (since === undefined) throw new UsageError("--since needs a duration such as 1h or 24h");
    const entries = readAuditLog(dir, Date.now() - since, files);
    if (args.flags.get("json")) console.log(JSON.stringify(entries, null, 2));
    else if (!entries.length) console.log(`no audit entries in that window (${termText(dir)})`);
    else
      for (const e of entries) {
        const r = e.record;
        const who = r.actor ? ` by ${r.actor}` : "";
        console.log(termText(`#${e.seq} ${r.time} ${r.source}/${r.mode} ${r.step} ${actionTargetText(r.target)} ${r.outcome}${who}: ${r.summary}`));
      }
    return EXIT.ok;
  },
};
