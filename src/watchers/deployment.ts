// Deployment rules: unavailable replicas, severe unready ratio, stalled rollouts, unobserved spec changes.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, WatcherPlugin } from "./types.ts";
import { anomalyFor, findCondition, parseTime, ref } from "./util.ts";
import { generationNotObserved, unavailableReplicas, unreadyRatio, type ReplicaCounts } from "./workload.ts";

const KIND = "Deployment";

export function deploymentCounts(d: KubeObject): ReplicaCounts {
  const desired: number = d.spec?.replicas ?? 1;
  const available: number = d.status?.availableReplicas ?? 0;
  // Available Pods are ready ones; servers before readyReplicas existed report only availableReplicas.
  const ready: number = Math.max(d.status?.readyReplicas ?? 0, available);
  const unavailable: number = d.status?.unavailableReplicas ?? Math.max(0, desired - available);
  const availableCond = findCondition(d, "Available");
  return {
    desired,
    ready,
    unavailable,
    total: d.status?.replicas,
    updated: d.status?.updatedReplicas,
    noun: "replica",
    shortSince: availableCond?.status === "False" ? parseTime(availableCond.lastTransitionTime) : undefined,
  };
}

function progressDeadline(d: KubeObject): Anomaly[] {
  const c = findCondition(d, "Progressing");
  const since = parseTime(c?.lastTransitionTime);
  if (c?.status !== "False" || c.reason !== "ProgressDeadlineExceeded" || since === undefined) return [];
  return [
    anomalyFor(d, KIND, {
      reason: "ProgressDeadlineExceeded",
      severity: "critical",
      category: "Condition",
      since,
      message: `Rollout is stuck: ${(c.message ?? "progress deadline exceeded").replace(/\.+$/, "")}. Check the new ReplicaSet's Pods (image, crashes, probes, quota); kubectl rollout undo reverts it.`,
    }),
  ];
}

export function evaluateDeployment(d: KubeObject, ctx: RuleContext): Anomaly[] {
  const counts = deploymentCounts(d);
  // Scaled to zero is a deliberate, healthy state: only the controller-liveness check still applies.
  if (counts.desired === 0) return generationNotObserved(d, KIND, ctx);
  return [
    ...unavailableReplicas(d, KIND, counts, ctx),
    ...unreadyRatio(d, KIND, counts, ctx),
    ...progressDeadline(d),
    ...generationNotObserved(d, KIND, ctx),
  ];
}

export const deploymentPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("apps", "v1", "deployments", KIND)],
  evaluate: evaluateDeployment,
  reportsTimeDependence: true,
};
