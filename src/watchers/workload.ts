// Rules shared by the replica-owning workloads (Deployment, StatefulSet, DaemonSet):
// too few ready replicas for too long, and a spec change the controller has not picked up.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext } from "./types.ts";
import { activeSince, anomalyFor, creationTime, formatAge, lastWriteTime, lasted, loggedStart, plural, undatedLasting } from "./util.ts";

export interface ReplicaCounts {
  desired: number;
  ready: number;
  /** Replicas not available (ready for minReadySeconds), as the controller reports it. */
  unavailable: number;
  /** Pods of every revision (Deployment status.replicas) and those on the current template (updatedReplicas), if known. */
  total?: number;
  updated?: number;
  /** What one replica is called in messages: "replica", "daemon Pod". */
  noun: string;
  /** Object timestamp bounding when the shortfall began (Available=False transition), if any. */
  shortSince?: number;
  /** Extra sentence, e.g. which nodes lack a ready daemon Pod. */
  detail?: string;
}

/** UnavailableReplica: ready < desired or unavailable > 0 for longer than RULE_DEPLOYMENT_UNAVAILABLE_FOR. */
export function unavailableReplicas(obj: KubeObject, kind: string, c: ReplicaCounts, ctx: RuleContext): Anomaly[] {
  const short = c.desired > 0 && (c.ready < c.desired || c.unavailable > 0);
  // No Available=False condition dates it: scan (one pass, no first observation) reports it anyway,
  // bounded by the last recorded status write (the counts have held since).
  const logged = loggedStart(ctx, obj, kind, "UnavailableReplica");
  const undated = !!ctx.oneShot && c.shortSince === undefined && logged === undefined;
  const bound = undated ? lastWriteTime(obj, "status") : undefined;
  const since = activeSince(ctx.memo, "unavailableSince", short, ctx.now, c.shortSince ?? bound, logged);
  if (since === undefined) return [];
  if (!undated && !lasted(ctx, since, ctx.settings.deploymentUnavailableForMs)) return [];
  const lasting = undatedLasting(ctx.now, undated, since, bound, "status writes");
  return [
    anomalyFor(obj, kind, {
      reason: "UnavailableReplica",
      severity: "warning",
      category: "Warning",
      since,
      message:
        `${shortfall(kind, c, lasting)}.` +
        `${c.detail ? ` ${c.detail}` : ""} Check its Pods for image pull failures, crashes, failing probes or unschedulable Pods.`,
    }),
  ];
}

/**
 * What is short, in counts that add up. `unavailable` counts Pods of every revision: during a rollout the
 * new template's Pods are short while old ones still serve, so "1 of 1 unavailable (1 ready)" would be
 * true of neither; and Pods ready but not yet available are waiting out minReadySeconds.
 */
export function shortfall(kind: string, c: ReplicaCounts, lasting = ""): string {
  const old = c.total !== undefined && c.updated !== undefined ? Math.max(0, c.total - c.updated) : 0;
  if (old > 0 && c.total !== undefined && c.updated !== undefined)
    return (
      `${kind} rollout has not finished (wants ${plural(c.desired, c.noun)}): ${c.updated} updated, ${old} old still running; ` +
      `${c.unavailable} of ${plural(c.total, "Pod")} unavailable${lasting}, ${c.ready} ready`
    );
  const missing = Math.max(0, c.desired - c.ready);
  if (c.unavailable <= missing) return `${kind} has ${missing} of ${c.desired} ${c.noun}s unavailable (${c.ready} ready)${lasting}`;
  // More unavailable than missing: some are ready but not yet available, or surplus Pods (scaling down).
  const pods = Math.max(c.total ?? c.desired, c.unavailable);
  const why = pods > c.desired ? `${pods} Pods for ${c.desired} desired` : "ready for less than minReadySeconds";
  return `${kind} wants ${plural(c.desired, c.noun)}: ${c.ready} ready, but ${c.unavailable} of ${plural(pods, "Pod")} not available (${why})${lasting}`;
}

/** UnreadyReplicaRatio: unready/desired ≥ DIAGNOSIS_UNREADY_REPLICA_PERCENT for DIAGNOSIS_UNREADY_THRESHOLD_DURATION. */
export function unreadyRatio(obj: KubeObject, kind: string, c: ReplicaCounts, ctx: RuleContext): Anomaly[] {
  const threshold = ctx.settings.unreadyReplicaRatio;
  const unready = Math.max(0, c.desired - c.ready);
  const ratio = c.desired > 0 ? unready / c.desired : 0;
  const high = c.desired > 0 && unready > 0 && ratio >= threshold;
  const since = activeSince(ctx.memo, "unreadyRatioSince", high, ctx.now, c.shortSince, loggedStart(ctx, obj, kind, "UnreadyReplicaRatio"));
  if (since === undefined || !lasted(ctx, since, ctx.settings.unreadyThresholdMs)) return [];
  return [
    anomalyFor(obj, kind, {
      reason: "UnreadyReplicaRatio",
      severity: "critical",
      category: "Warning",
      since,
      message:
        `${unready} of ${c.desired} ${c.noun}s unready (${Math.round(ratio * 100)}%, threshold ${Math.round(threshold * 100)}%) ` +
        `for ${formatAge(ctx.now - since)}: the ${kind} is severely degraded. Check its Pods and the nodes they run on.`,
    }),
  ];
}

/** GenerationNotObserved: metadata.generation ahead of status.observedGeneration beyond the grace period. */
export function generationNotObserved(obj: KubeObject, kind: string, ctx: RuleContext): Anomaly[] {
  const generation = obj.metadata.generation;
  const observed: number = obj.status?.observedGeneration ?? 0;
  const behind = typeof generation === "number" && generation > observed;
  // A brand-new object (generation 1) has been waiting since it was created.
  const since = activeSince(
    ctx.memo,
    "generationSince",
    behind,
    ctx.now,
    generation === 1 ? creationTime(obj) : undefined,
    loggedStart(ctx, obj, kind, "GenerationNotObserved"),
  );
  if (since === undefined || !lasted(ctx, since, ctx.settings.generationObservedGraceMs)) return [];
  return [
    anomalyFor(obj, kind, {
      reason: "GenerationNotObserved",
      severity: "warning",
      category: "Condition",
      since,
      message: `${kind} spec generation ${generation} has not been observed by its controller for ${formatAge(ctx.now - since)} (observed: ${observed}). Check that kube-controller-manager (the k3s server) is running.`,
    }),
  ];
}
