// The action contract: every decision the controller takes to change the cluster (healing, SLO
// rollback and scaling) or is told to take (silences, pauses), including dry-run decisions and
// refusals. One record per decision; its id is deterministic so a decision replayed after a restart
// or a leader change is recognised as the same one and announced once (docs/actions.md).

/** Who decided: an engine of ours, or an operator's command. */
export type ActionSource = "healing" | "slo" | "operator";
/** "dry-run": decided, announced, no write made. "on": the write was (or was to be) made. */
export type ActionMode = "dry-run" | "on";
/**
 * planned: decided, not yet carried out (or dry-run); done: the write succeeded; waiting: blocked for
 * now (a PDB, a cooldown) and retried; refused: a safety limit said no (reason names the limit);
 * failed: the API refused or errored.
 */
export type ActionOutcome = "planned" | "done" | "waiting" | "refused" | "failed";

export interface ActionTarget {
  kind: string;
  namespace: string;
  name: string;
}

export interface ActionRecord {
  /** Unique and deterministic: "<source>:<kind>/<namespace>/<name>:<step>:<episode>", where the episode is what makes a repeat distinct (e.g. the remediation's start time). */
  id: string;
  /** RFC 3339, when the decision was taken. */
  time: string;
  source: ActionSource;
  mode: ActionMode;
  target: ActionTarget;
  /** Short verb: cordon, evict, release, uncordon, rollback, scale-up, scale-down, pause, resume, silence, … */
  step: string;
  outcome: ActionOutcome;
  /** Why: the evidence that triggered it, or the limit that refused it ("HEALING_MIN_HEALTHY_PERCENT: 2 of 5 nodes Ready"). */
  reason: string;
  /** One sentence for people: "Node pi-3 cordoned and drained: 7 pods evicted, 1 waiting on PDB web-pdb". */
  summary: string;
  /** Who asked, for operator commands (the CLI user or the signer of an MQTT command). */
  actor?: string;
  /** Small structured facts (counts, revisions, replicas from → to); never secret values. */
  detail?: Record<string, string | number | boolean>;
  /** Announce through the alert pipeline (Slack/email/MQTT alerts), not only the log, history and actions topic. */
  announce?: boolean;
}

export const actionTargetText = (t: ActionTarget): string => (t.namespace ? `${t.kind} ${t.namespace}/${t.name}` : `${t.kind} ${t.name}`);
