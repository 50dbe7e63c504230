// DaemonSet rules: nodes without an available daemon Pod, daemon Pods on nodes they should not run on.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, CacheView, RuleContext, WatcherPlugin } from "./types.ts";
import { activeSince, anomalyFor, findCondition, formatAge, lasted, loggedStart, plural, ref } from "./util.ts";
import { generationNotObserved, unavailableReplicas } from "./workload.ts";

const KIND = "DaemonSet";

/** Nodes whose Pod of this DaemonSet is not Ready, read from the Pod cache (for the message only). */
function nodesWithUnreadyPods(ds: KubeObject, cache: CacheView): string[] {
  const nodes: string[] = [];
  for (const pod of cache.list("Pod", ds.metadata.namespace)) {
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === KIND);
    if (owner?.name !== ds.metadata.name) continue;
    if (findCondition(pod, "Ready")?.status !== "True" && pod.spec?.nodeName) nodes.push(pod.spec.nodeName);
  }
  return nodes.sort();
}

function misscheduled(ds: KubeObject, ctx: RuleContext): Anomaly[] {
  const count: number = ds.status?.numberMisscheduled ?? 0;
  const since = activeSince(ctx.memo, "misscheduledSince", count > 0, ctx.now, undefined, loggedStart(ctx, ds, KIND, "Misscheduled"));
  if (since === undefined || !lasted(ctx, since, ctx.settings.deploymentUnavailableForMs)) return [];
  return [
    anomalyFor(ds, KIND, {
      reason: "Misscheduled",
      severity: "warning",
      category: "Scheduling",
      since,
      message: `${plural(count, "daemon Pod")} running on nodes that should not run it, for ${formatAge(ctx.now - since)}. Check the DaemonSet's nodeSelector/affinity against node labels and taints.`,
    }),
  ];
}

export function evaluateDaemonSet(ds: KubeObject, ctx: RuleContext): Anomaly[] {
  const desired: number = ds.status?.desiredNumberScheduled ?? 0;
  const ready: number = ds.status?.numberReady ?? 0;
  const available: number = ds.status?.numberAvailable ?? ready;
  const unavailable: number = ds.status?.numberUnavailable ?? Math.max(0, desired - available);
  const nodes = desired > 0 && (ready < desired || unavailable > 0) ? nodesWithUnreadyPods(ds, ctx.cache) : [];
  const detail = nodes.length ? `Nodes without a ready daemon Pod: ${nodes.join(", ")}.` : undefined;
  return [
    ...unavailableReplicas(ds, KIND, { desired, ready, unavailable, noun: "daemon Pod", detail }, ctx),
    ...misscheduled(ds, ctx),
    ...generationNotObserved(ds, KIND, ctx),
  ];
}

export const daemonSetPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("apps", "v1", "daemonsets", KIND)],
  evaluate: evaluateDaemonSet,
  reportsTimeDependence: true,
};
