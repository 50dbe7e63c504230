// Just enough of kube-controller-manager to keep derived objects consistent after a scenario edits pods:
// ReplicaSet/Deployment readiness counts and Service Endpoints/EndpointSlices follow the pods, so a
// failing pod shows up where the controller under test would look for it.
import type { KubeObject, OwnerReference } from "../kube/types.ts";
import { suffix } from "./naming.ts";
import { mustResource } from "./resources.ts";
import { labelSelectorMatcher } from "./selectors.ts";
import type { SimStore } from "./store.ts";

// Read-only views of the store's own objects: these syncs run on every scenario step, so no copies.
const all = (store: SimStore, plural: string, ns: string) => store.peekAll(mustResource(plural), ns);

export function isPodReady(p: KubeObject): boolean {
  return (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

function controllerOf(o: KubeObject) {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

export function podsOwnedBy(store: SimStore, owner: KubeObject): KubeObject[] {
  return all(store, "pods", owner.metadata.namespace!).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
}

function setCondition(conds: any[], type: string, status: string, reason: string, message: string, now: string): any[] {
  const out = conds.filter((c) => c.type !== type);
  const old = conds.find((c) => c.type === type);
  const changed = !old || old.status !== status;
  out.push({
    type,
    status,
    lastUpdateTime: now,
    lastTransitionTime: changed ? now : old.lastTransitionTime,
    reason,
    message,
  });
  return out.sort((a, b) => a.type.localeCompare(b.type));
}

/** Recompute a ReplicaSet's status from its pods, then its Deployment's. */
export function syncReplicaSet(store: SimStore, ns: string, name: string): void {
  const rs = store.get("replicasets", ns, name);
  if (!rs) return;
  const pods = podsOwnedBy(store, rs);
  const ready = pods.filter(isPodReady).length;
  store.patchStatus("replicasets", ns, name, (s) => {
    s.replicas = pods.length;
    s.fullyLabeledReplicas = pods.length;
    s.readyReplicas = ready;
    s.availableReplicas = ready;
    s.observedGeneration = rs.metadata.generation;
  });
  const dep = controllerOf(rs);
  if (dep?.kind === "Deployment") syncDeployment(store, ns, dep.name);
}

export function syncDeployment(store: SimStore, ns: string, name: string): void {
  const d = store.get("deployments", ns, name);
  if (!d) return;
  const sets = all(store, "replicasets", ns).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let wanted = 0;
  for (const rs of sets) {
    replicas += rs.status?.replicas ?? 0;
    ready += rs.status?.readyReplicas ?? 0;
    available += rs.status?.availableReplicas ?? 0;
    wanted += rs.spec?.replicas ?? 0;
  }
  // Like the deployment controller: updated = the newest revision's Pods, unavailable = every
  // ReplicaSet's wanted Pods minus the available ones (old and new revisions alike).
  const revision = (o: KubeObject) => Number(o.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0);
  const newest = sets.reduce<KubeObject | undefined>((best, rs) => (!best || revision(rs) > revision(best) ? rs : best), undefined);
  const unavailable = Math.max(0, wanted - available);
  const want = d.spec?.replicas ?? 1;
  const now = store.timestamp();
  store.patchStatus("deployments", ns, name, (s) => {
    s.observedGeneration = d.metadata.generation;
    s.replicas = replicas;
    s.updatedReplicas = newest?.status?.replicas ?? 0;
    s.readyReplicas = ready;
    s.availableReplicas = available;
    if (unavailable > 0) s.unavailableReplicas = unavailable;
    else delete s.unavailableReplicas;
    const minimum = available >= want - maxUnavailable(d, want);
    s.conditions = setCondition(
      s.conditions ?? [],
      "Available",
      minimum ? "True" : "False",
      minimum ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
      minimum ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
      now,
    );
  });
}

function maxUnavailable(d: KubeObject, want: number): number {
  const v = d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? "25%";
  if (typeof v === "number") return v;
  return Math.floor((Number(String(v).replace("%", "")) / 100) * want);
}

/** Rebuild Endpoints and the EndpointSlice of one Service from the pods its selector matches. */
export function syncService(store: SimStore, ns: string, name: string): void {
  const svc = store.get("services", ns, name);
  if (!svc?.spec?.selector) return;
  const match = labelSelectorMatcher({ matchLabels: svc.spec.selector });
  const pods = all(store, "pods", ns).filter((p) => match(p.metadata.labels) && p.status?.podIP && !p.metadata.deletionTimestamp);
  const target = (p: KubeObject) => ({ kind: "Pod", namespace: ns, name: p.metadata.name, uid: p.metadata.uid });
  const addr = (p: KubeObject) => ({ ip: p.status.podIP, nodeName: p.spec?.nodeName, targetRef: target(p) });
  const ports = (svc.spec.ports ?? []).map((p: any) => ({ name: p.name, port: p.targetPort ?? p.port, protocol: p.protocol ?? "TCP" }));
  const ready = pods.filter(isPodReady).map(addr);
  const notReady = pods.filter((p) => !isPodReady(p)).map(addr);
  const subset: Record<string, unknown> = { ports };
  if (ready.length) subset.addresses = ready;
  if (notReady.length) subset.notReadyAddresses = notReady;
  const endpoints = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace: ns, labels: { ...(svc.metadata.labels ?? {}) } },
    subsets: pods.length ? [subset] : [],
  };
  const existing = store.get("endpoints", ns, name);
  if (existing) store.update({ ...existing, subsets: endpoints.subsets });
  else store.create(endpoints);

  const sliceName = `${name}-${suffix(`slice/${ns}/${name}`)}`;
  const slice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: sliceName,
      namespace: ns,
      labels: { "kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
      ownerReferences: [
        { apiVersion: "v1", kind: "Service", name, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true } as OwnerReference,
      ],
    },
    addressType: "IPv4",
    endpoints: pods.map((p) => ({
      addresses: [p.status.podIP],
      conditions: { ready: isPodReady(p), serving: isPodReady(p), terminating: false },
      nodeName: p.spec?.nodeName,
      targetRef: target(p),
    })),
    ports,
  };
  const old = store.get("endpointslices", ns, sliceName);
  if (old) store.update({ ...old, endpoints: slice.endpoints, ports });
  else store.create(slice);
}

/** After a pod changed: refresh its ReplicaSet/Deployment and every Service selecting it. */
export function syncAfterPodChange(store: SimStore, pod: KubeObject): void {
  const ns = pod.metadata.namespace!;
  const owner = controllerOf(pod);
  if (owner?.kind === "ReplicaSet") syncReplicaSet(store, ns, owner.name);
  for (const svc of all(store, "services", ns)) {
    if (!svc.spec?.selector) continue;
    if (labelSelectorMatcher({ matchLabels: svc.spec.selector })(pod.metadata.labels)) syncService(store, ns, svc.metadata.name);
  }
}
