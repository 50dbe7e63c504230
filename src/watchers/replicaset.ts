// ReplicaSets raise nothing themselves (their Deployment does); they are watched so a Pod can be traced
// to the workload that owns it: Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob, Pod -> StatefulSet...
import type { KubeObject, OwnerReference } from "../kube/types.ts";
import type { CacheView, WatcherPlugin } from "./types.ts";
import { ref } from "./util.ts";

const KIND = "ReplicaSet";

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

function controllerOf(obj: KubeObject): OwnerReference | undefined {
  const owners = obj.metadata.ownerReferences ?? [];
  return owners.find((o) => o.controller) ?? owners[0];
}

/**
 * The controllers above `obj`, nearest first: [ReplicaSet, Deployment] for a Deployment's Pod.
 * Follows owners through the cache; when a ReplicaSet is not cached, its Deployment is still
 * recovered from the naming convention "<deployment>-<pod-template-hash>".
 */
export function ownerChain(obj: KubeObject, cache: CacheView): ObjectRef[] {
  const namespace = obj.metadata.namespace ?? "";
  const chain: ObjectRef[] = [];
  let current: KubeObject | undefined = obj;
  const hash = obj.metadata.labels?.["pod-template-hash"];
  while (current && chain.length < 5) {
    const owner = controllerOf(current);
    if (!owner) break;
    chain.push({ kind: owner.kind, namespace, name: owner.name });
    const next = cache.get(owner.kind, namespace, owner.name);
    if (!next && owner.kind === KIND && hash && owner.name.endsWith(`-${hash}`)) {
      chain.push({ kind: "Deployment", namespace, name: owner.name.slice(0, -hash.length - 1) });
      break;
    }
    current = next;
  }
  return chain;
}

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet", "Job"];

/** The workload a Pod belongs to (its Deployment, StatefulSet, DaemonSet or Job), if any. */
export function owningWorkload(pod: KubeObject, cache: CacheView): ObjectRef | undefined {
  const chain = ownerChain(pod, cache);
  // The first workload kind up the chain: a CronJob's Pod reports its Job (the run that failed).
  return chain.find((r) => WORKLOADS.includes(r.kind));
}

export const replicaSetPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("apps", "v1", "replicasets", KIND)],
  evaluate: () => [],
  reportsTimeDependence: true,
};
