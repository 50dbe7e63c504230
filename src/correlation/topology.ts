// The ownership/topology graph incidents are correlated over, read from the informer caches:
//   Pod -> ReplicaSet -> Deployment (ownerReferences; StatefulSet, DaemonSet, Job -> CronJob alike)
//   Pod, workload -> Service (the Service's selector matches the Pod / Pod template labels)
//   Pod -> Node (only when the Node is itself unhealthy: a healthy node is not a cause, and linking
//                every Pod to its node would merge unrelated incidents that merely share a machine)
//   Host -> Node (a host-health anomaly is about the machine under the Node of the same name)
// Every function here is a pure read of the CacheView.
import { findCondition, ownerChain, type CacheView, type ObjectRef } from "../kube/objects.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly } from "../model/anomaly.ts";

export type { ObjectRef };

export const refKey = (r: ObjectRef): string => `${r.kind}/${r.namespace}/${r.name}`;

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];

/**
 * The object an anomaly is about. The Service rule reports kind "Endpoints" named after the
 * Service (the seed's log format); topologically that is the Service.
 */
export function subjectOf(a: Anomaly): ObjectRef {
  const kind = a.kind === "Endpoints" || a.kind === "EndpointSlice" ? "Service" : a.kind;
  return { kind, namespace: kind === "Node" || kind === "Cluster" || kind === "Host" ? "" : a.namespace, name: a.name };
}

/**
 * Causal layer, lower = nearer the root cause: a node failure breaks its Pods, crashing Pods make
 * their Deployment unavailable, an unavailable Deployment empties its Service's endpoints.
 */
export function causalLayer(kind: string): number {
  switch (kind) {
    case "Cluster":
      return 0;
    case "Host": // the machine under a Node: power, heat, disk, clock (src/hosts/)
      return 0.5;
    case "Node":
      return 1;
    case "Pod":
      return 2;
    case "ReplicaSet":
      return 3;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "Job":
    case "CronJob":
      return 4;
    case "Service":
    case "Endpoints":
    case "EndpointSlice":
      return 5;
    default:
      return 6;
  }
}

function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  // An empty selector selects nothing for Services (their endpoints are managed by hand).
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** Services in `namespace` whose selector matches `labels`. */
export function servicesSelecting(namespace: string, labels: Record<string, string> | undefined, cache: CacheView): ObjectRef[] {
  if (!labels) return [];
  const out: ObjectRef[] = [];
  for (const svc of cache.list("Service", namespace)) {
    if (selectorMatches(svc.spec?.selector, labels)) out.push({ kind: "Service", namespace, name: svc.metadata.name });
  }
  return out;
}

function templateLabels(workload: KubeObject): Record<string, string> | undefined {
  return workload.spec?.template?.metadata?.labels ?? workload.spec?.selector?.matchLabels;
}

/** The node a Pod anomaly happened on: stated by the rule, else the Pod's spec. */
export function nodeOfPod(a: Anomaly, cache: CacheView): string {
  if (a.node) return a.node;
  return (cache.get("Pod", a.namespace, a.name)?.spec?.nodeName as string | undefined) ?? "";
}

/** A node whose Ready condition is not True in the cache (its NodeNotReady rule may not have fired yet). */
export function nodeLooksDown(name: string, cache: CacheView): boolean {
  const node = cache.get("Node", "", name);
  if (!node) return false;
  const ready = findCondition(node, "Ready");
  return ready !== undefined && ready.status !== "True";
}

/**
 * Objects the anomaly's subject is directly connected to (its owners, its Services, its node when
 * that node is a cause). `unhealthyNodes` are nodes with a warning/critical anomaly of their own.
 * Links are symmetric, so only the lower layer states them (a Service states nothing).
 */
export function linksOf(a: Anomaly, cache: CacheView, unhealthyNodes: ReadonlySet<string>): ObjectRef[] {
  const subject = subjectOf(a);
  const out: ObjectRef[] = [];
  // A host problem is the machine under its Node: linked to it, so the Node's anomalies join its incident.
  if (subject.kind === "Host") out.push({ kind: "Node", namespace: "", name: subject.name });
  if (subject.kind === "Pod") {
    const pod = cache.get("Pod", subject.namespace, subject.name);
    const node = nodeOfPod(a, cache);
    if (node && (unhealthyNodes.has(node) || nodeLooksDown(node, cache))) out.push({ kind: "Node", namespace: "", name: node });
    if (pod) {
      out.push(...ownerChain(pod, cache));
      out.push(...servicesSelecting(subject.namespace, pod.metadata.labels, cache));
    }
  } else if (WORKLOAD_KINDS.includes(subject.kind)) {
    const workload = cache.get(subject.kind, subject.namespace, subject.name);
    if (workload) out.push(...servicesSelecting(subject.namespace, templateLabels(workload), cache));
  } else if (subject.kind === "ReplicaSet" || subject.kind === "Job") {
    const obj = cache.get(subject.kind, subject.namespace, subject.name);
    if (obj) out.push(...ownerChain(obj, cache));
  }
  return out;
}

/** Workloads with replicas desired and none ready: "a whole Deployment unavailable". */
export function workloadFullyDown(ref: ObjectRef, cache: CacheView): boolean {
  const w = cache.get(ref.kind, ref.namespace, ref.name);
  if (!w) return false;
  if (ref.kind === "DaemonSet") return (w.status?.desiredNumberScheduled ?? 0) > 0 && (w.status?.numberReady ?? 0) === 0;
  if (ref.kind === "Deployment" || ref.kind === "StatefulSet") return (w.spec?.replicas ?? 1) > 0 && (w.status?.readyReplicas ?? 0) === 0;
  return false;
}

export function isWorkloadKind(kind: string): boolean {
  return WORKLOAD_KINDS.includes(kind);
}
