// ActionRecords of healing decisions. Ids are deterministic ("healing:<kind>/<ns>/<name>:<step>:<episode>",
// docs/actions.md): the episode is the node's NotReady transition, read from the Node object itself, so the
// same decision taken again — next tick, after a restart, by a new leader — has the same id and is told once.
import { createHash } from "node:crypto";
import type { ActionOutcome, ActionRecord, ActionTarget } from "../model/action.ts";

export interface RecordInput {
  now: number;
  dryRun: boolean;
  target: ActionTarget;
  step: string;
  episode: string;
  outcome: ActionOutcome;
  reason: string;
  summary: string;
  announce?: boolean;
  detail?: Record<string, string | number | boolean>;
}

export const nodeTarget = (name: string): ActionTarget => ({ kind: "Node", namespace: "", name });
export const podTarget = (namespace: string, name: string): ActionTarget => ({ kind: "Pod", namespace, name });

export function actionId(target: ActionTarget, step: string, episode: string, dryRun: boolean): string {
  return `healing:${target.kind}/${target.namespace}/${target.name}:${step}:${episode}${dryRun ? ":dry-run" : ""}`;
}

export function healingRecord(r: RecordInput): ActionRecord {
  const rec: ActionRecord = {
    id: actionId(r.target, r.step, r.episode, r.dryRun),
    time: new Date(r.now).toISOString(),
    source: "healing",
    mode: r.dryRun ? "dry-run" : "on",
    target: r.target,
    step: r.step,
    outcome: r.outcome,
    reason: r.reason,
    summary: r.dryRun ? `[dry-run] ${r.summary}` : r.summary,
  };
  if (r.detail) rec.detail = r.detail;
  if (r.announce) rec.announce = true;
  return rec;
}

/** The same outcome after the write: done (or failed with why), same id so a retry of a failed write is not re-told. */
export function withOutcome(rec: ActionRecord, outcome: ActionOutcome, now: number, extra?: { reason?: string; summary?: string }): ActionRecord {
  return {
    ...rec,
    outcome,
    time: new Date(now).toISOString(),
    ...(extra?.reason ? { reason: extra.reason } : {}),
    ...(extra?.summary ? { summary: extra.summary } : {}),
  };
}

/** A short stable name for a set of facts (e.g. which nodes were down), for cluster-wide refusals. */
export function episodeOf(parts: readonly string[]): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 12);
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
