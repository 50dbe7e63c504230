// Wires the tamper-evident audit.log (audit-log.ts) into the controller: every ActionRecord the journal
// tells (healing, SLO, operator) is appended; the operator's own acts that are not journaled elsewhere are
// recorded here as ActionRecords (source "operator"): each silence created or edited (CLI or signed MQTT
// command, seen when the leader loads the silence list) and the configuration the controller started with
// (a digest of the non-secret keys: a changed configuration across restarts is a new entry).
import { createHash } from "node:crypto";
import type { Silence } from "../alerting/silence.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { ActionRecord } from "../model/action.ts";
import { AuditLog } from "./audit-log.ts";
import type { ActionJournal } from "./journal.ts";

export function silenceRecord(s: Silence): ActionRecord {
  const matchers = s.matchers.map((m) => `${m.field}${m.negate ? "!=" : "="}${m.value}`).join(", ");
  return {
    id: `operator:Silence//${s.id}:silence:${s.updatedAt}`,
    time: new Date(s.updatedAt).toISOString(),
    source: "operator",
    mode: "on",
    target: { kind: "Silence", namespace: "", name: s.id },
    step: s.updatedAt === s.createdAt ? "silence" : "silence-update",
    outcome: "done",
    reason: s.comment.slice(0, 500) || "(no comment)",
    summary: `Silence ${s.id} by ${s.createdBy} until ${new Date(s.endsAt).toISOString()}: ${matchers}`.slice(0, 1000),
    actor: s.createdBy,
    detail: { startsAt: new Date(s.startsAt).toISOString(), endsAt: new Date(s.endsAt).toISOString(), matchers: s.matchers.length },
  };
}

export function configRecord(config: Config, now: number): ActionRecord {
  const shown = config
    .describe()
    .filter((d) => !d.secret)
    .map((d) => `${d.key}=${d.value}`)
    .sort();
  const digest = createHash("sha256").update(shown.join("\n")).digest("hex").slice(0, 16);
  return {
    id: `operator:Config//neurocontroller:config-load:${digest}`,
    time: new Date(now).toISOString(),
    source: "operator",
    mode: "on",
    target: { kind: "Config", namespace: "", name: "neurocontroller" },
    step: "config-load",
    outcome: "done",
    reason: "the controller started with a configuration not recorded before (secret keys are not part of the digest)",
    summary: `Configuration ${digest} loaded`,
    detail: { digest, keys: shown.length },
  };
}

/** Attaches audit.log to the journal and records the configuration; returns what the alerting runtime calls with each silence list. */
export function startAuditTrail(config: Config, journal: ActionJournal, logger: Logger, now: () => number): (silences: readonly Silence[]) => void {
  const audit = logger.child({ component: "audit-log" });
  let log: AuditLog | undefined;
  const open = () => (log ??= new AuditLog(config.str("NEURO_LOG_DIR"), config.num("AUDIT_LOG_MAX_SIZE"), config.num("AUDIT_LOG_MAX_FILES"), now));
  journal.listen((rec) => {
    try {
      open().append(rec);
    } catch (e) {
      audit.error("cannot append to audit.log; the action is in state.db's history", { action: rec.id, error: String(e) });
    }
  });
  journal.record(configRecord(config, now()));
  return (silences) => {
    for (const s of silences) if (!journal.store.has(silenceRecord(s).id)) journal.record(silenceRecord(s));
  };
}
