// ReplicaSets raise nothing themselves (their Deployment does); they are watched so a Pod can be traced
// to the workload that owns it: Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob, Pod -> StatefulSet...
// (the owner-chain walk itself is src/kube/objects.ts: ownerChain, owningWorkload).
import type { WatcherPlugin } from "./types.ts";
import { ref } from "./util.ts";

const KIND = "ReplicaSet";

export const replicaSetPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("apps", "v1", "replicasets", KIND)],
  evaluate: () => [],
  reportsTimeDependence: true,
};
