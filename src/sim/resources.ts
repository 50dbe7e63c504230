// The served resource table: one row per resource, the single source for routing, storage keys and discovery.
import type { KubeObject, ResourceRef } from "../kube/types.ts";

export interface SimResource extends ResourceRef {
  singular: string;
  listKind: string;
  shortNames?: string[];
  /** Subresources besides the main resource ("status", "eviction"). */
  subresources: string[];
  /** Extra field selectors beyond metadata.name / metadata.namespace (as the real registries allow). */
  fields: string[];
  /** Which SimOptions.served switch turns this group/version off. */
  servedBy?: "endpointSlices" | "policyV1";
}

export const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function r(group: string, version: string, plural: string, kind: string, namespaced: boolean, extra: Partial<SimResource> = {}): SimResource {
  return {
    group,
    version,
    plural,
    kind,
    namespaced,
    singular: kind.toLowerCase(),
    listKind: `${kind}List`,
    subresources: [],
    fields: [],
    ...extra,
  };
}

export const RESOURCES: SimResource[] = [
  r("", "v1", "pods", "Pod", true, {
    shortNames: ["po"],
    subresources: ["status", "eviction"],
    fields: [
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "status.phase",
      "status.podIP",
      "status.nominatedNodeName",
    ],
  }),
  r("", "v1", "nodes", "Node", false, { shortNames: ["no"], subresources: ["status"], fields: ["spec.unschedulable"] }),
  r("", "v1", "services", "Service", true, { shortNames: ["svc"], subresources: ["status"] }),
  r("", "v1", "endpoints", "Endpoints", true, { singular: "endpoints", shortNames: ["ep"] }),
  r("", "v1", "events", "Event", true, {
    shortNames: ["ev"],
    fields: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "involvedObject.resourceVersion",
      "involvedObject.fieldPath",
      "reason",
      "reportingComponent",
      "source",
      "type",
    ],
  }),
  r("", "v1", "configmaps", "ConfigMap", true, { shortNames: ["cm"] }),
  r("", "v1", "namespaces", "Namespace", false, { shortNames: ["ns"], subresources: ["status"], fields: ["status.phase"] }),
  r("", "v1", "secrets", "Secret", true, { fields: ["type"] }),
  r("apps", "v1", "deployments", "Deployment", true, { shortNames: ["deploy"], subresources: ["status", "scale"] }),
  r("apps", "v1", "replicasets", "ReplicaSet", true, {
    shortNames: ["rs"],
    subresources: ["status"],
    fields: ["status.replicas"],
  }),
  r("apps", "v1", "statefulsets", "StatefulSet", true, { shortNames: ["sts"], subresources: ["status"] }),
  r("apps", "v1", "daemonsets", "DaemonSet", true, { shortNames: ["ds"], subresources: ["status"] }),
  r("batch", "v1", "jobs", "Job", true, { subresources: ["status"], fields: ["status.successful"] }),
  r("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true, { servedBy: "endpointSlices" }),
  r("coordination.k8s.io", "v1", "leases", "Lease", true),
  r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {
    shortNames: ["pdb"],
    subresources: ["status"],
    servedBy: "policyV1",
  }),
  // Only so the SLO scaler can see which workloads an autoscaler owns (no HPA controller runs here).
  r("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, { shortNames: ["hpa"], subresources: ["status"] }),
];

export function apiVersionOf(res: ResourceRef): string {
  return res.group ? `${res.group}/${res.version}` : res.version;
}

export function resourceKey(res: ResourceRef): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

const byName = new Map<string, SimResource>();
for (const res of RESOURCES) {
  for (const n of [res.plural, res.kind, res.singular, resourceKey(res), ...(res.shortNames ?? [])]) {
    byName.set(n.toLowerCase(), res);
  }
}

/** Accepts "pods", "Pod", "pod", "po", "deployments.apps". */
export function findResource(name: string): SimResource | undefined {
  return byName.get(name.toLowerCase());
}

export function mustResource(name: string): SimResource {
  const res = findResource(name);
  if (!res) throw new Error(`sim: unknown resource "${name}"`);
  return res;
}

export function resourceForObject(obj: KubeObject): SimResource {
  if (!obj.kind) throw new Error("sim: object has no kind");
  const res = findResource(obj.kind);
  if (!res || res.kind !== obj.kind) throw new Error(`sim: kind "${obj.kind}" is not simulated`);
  return res;
}

export function servedResources(served: { endpointSlices?: boolean; policyV1?: boolean }): SimResource[] {
  return RESOURCES.filter((res) => !res.servedBy || served[res.servedBy] !== false);
}

/** Resources under one API prefix, e.g. ("apps","v1"); empty when the group/version is not served. */
export function resourcesIn(group: string, version: string, served: { endpointSlices?: boolean; policyV1?: boolean }) {
  return servedResources(served).filter((res) => res.group === group && res.version === version);
}
