// StatefulSet rules: the Deployment thresholds applied to readyReplicas vs replicas.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, WatcherPlugin } from "./types.ts";
import { ref } from "./util.ts";
import { generationNotObserved, unavailableReplicas } from "./workload.ts";

const KIND = "StatefulSet";

export function evaluateStatefulSet(s: KubeObject, ctx: RuleContext): Anomaly[] {
  const desired: number = s.spec?.replicas ?? 1;
  const ready: number = s.status?.readyReplicas ?? 0;
  const available: number = s.status?.availableReplicas ?? ready;
  // StatefulSets carry no Available condition: the shortfall's start is first-observed (memo).
  const anomalies = unavailableReplicas(s, KIND, { desired, ready, unavailable: Math.max(0, desired - available), noun: "replica" }, ctx);
  return [...anomalies, ...generationNotObserved(s, KIND, ctx)];
}

export const statefulSetPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("apps", "v1", "statefulsets", KIND)],
  evaluate: evaluateStatefulSet,
  reportsTimeDependence: true,
};
