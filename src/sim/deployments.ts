// The deployment controller's revision bookkeeping, as kube-controller-manager does it, run after every
// API write to a Deployment (PUT/PATCH, /scale): the ReplicaSet whose template equals the Deployment's
// (ignoring pod-template-hash) is the new one, else a new ReplicaSet is created for the template's hash;
// the new one gets revision max+1 (a rollback re-uses the old ReplicaSet and bumps its revision, as
// `kubectl rollout undo` leaves it); old ReplicaSets keep their Pods until the new ones are ready
// (maxUnavailable 0 in effect), then scale to 0. Pods start Running and Ready unless their image says
// otherwise: a tag containing "crashloop" crash-loops, "does-not-exist" never pulls. Only Deployments
// that already own a ReplicaSet (seeded by a scenario) are managed: a bare Deployment created over the
// API stays as written, which the protocol tests compare with a real API server without a controller.
import type { KubeObject, OwnerReference } from "../kube/types.ts";
import { isPodReady, podsOwnedBy, syncDeployment, syncReplicaSet } from "./controllers.ts";
import { crashLoopPod, imagePullBackOff } from "./injectors.ts";
import { suffix, templateHash } from "./naming.ts";
import { replicaPod } from "./scenarios.ts";
import type { SimStore } from "./store.ts";

export const REVISION = "deployment.kubernetes.io/revision";
const HASH = "pod-template-hash";

const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.[REVISION] ?? 0);

/** The pod template without the pod-template-hash label, as compared by the deployment controller (EqualIgnoreHash). */
function templateKey(template: any): string {
  const labels = { ...(template?.metadata?.labels ?? {}) };
  delete labels[HASH];
  return stableJson({ ...template, metadata: { ...(template?.metadata ?? {}), labels } });
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

export function ownedReplicaSets(store: SimStore, dep: KubeObject): KubeObject[] {
  return store
    .list("replicasets", dep.metadata.namespace)
    .filter((rs) => rs.metadata.ownerReferences?.some((r) => r.controller && r.uid === dep.metadata.uid));
}

/** Brings the Deployment's ReplicaSets, their Pods and its status in line with its spec. */
export function reconcileDeployment(store: SimStore, ns: string, name: string): void {
  const dep = store.get("deployments", ns, name);
  if (!dep) return;
  const sets = ownedReplicaSets(store, dep);
  if (sets.length === 0) return;
  const key = templateKey(dep.spec.template);
  const maxRevision = sets.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  let current = sets.find((rs) => templateKey(rs.spec.template) === key);
  const want = dep.spec.replicas ?? 1;
  if (!current) current = createReplicaSet(store, dep, maxRevision + 1, want);
  else if (revisionOf(current) < maxRevision) {
    current = store.mutate("replicasets", ns, current.metadata.name, (rs) => {
      rs.metadata.annotations = { ...rs.metadata.annotations, [REVISION]: String(maxRevision + 1) };
    });
  }
  const revision = current.metadata.annotations![REVISION]!;
  if (dep.metadata.annotations?.[REVISION] !== revision) {
    store.mutate("deployments", ns, name, (d) => {
      d.metadata.annotations = { ...d.metadata.annotations, [REVISION]: revision };
    });
  }
  scaleReplicaSet(store, current, want);
  const newReady = podsOwnedBy(store, store.get("replicasets", ns, current.metadata.name)!).filter(isPodReady).length;
  // Old revisions keep serving until the new one's Pods are ready.
  let oldBudget = Math.max(0, want - newReady);
  for (const rs of ownedReplicaSets(store, dep).sort((a, b) => revisionOf(b) - revisionOf(a))) {
    if (rs.metadata.name === current.metadata.name) continue;
    const keep = Math.min(oldBudget, rs.spec.replicas ?? 0);
    oldBudget -= keep;
    scaleReplicaSet(store, rs, keep);
  }
  syncDeployment(store, ns, name);
}

function createReplicaSet(store: SimStore, dep: KubeObject, revision: number, replicas: number): KubeObject {
  const ns = dep.metadata.namespace!;
  const hash = templateHash(`${ns}/${dep.metadata.name}/${templateKey(dep.spec.template)}`);
  const labels = { ...(dep.spec.template.metadata?.labels ?? {}), [HASH]: hash };
  const selector = { ...dep.spec.selector, matchLabels: { ...(dep.spec.selector?.matchLabels ?? {}), [HASH]: hash } };
  return store.create({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${dep.metadata.name}-${hash}`,
      namespace: ns,
      labels,
      annotations: { [REVISION]: String(revision), "deployment.kubernetes.io/desired-replicas": String(replicas) },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: dep.metadata.name,
          uid: dep.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        } as OwnerReference,
      ],
    },
    spec: { replicas: 0, selector, template: { ...dep.spec.template, metadata: { ...dep.spec.template.metadata, labels } } },
    status: {},
  });
}

/** Sets spec.replicas and creates or deletes Pods (newest first) to match. */
function scaleReplicaSet(store: SimStore, rs: KubeObject, replicas: number): void {
  const ns = rs.metadata.namespace!;
  if ((rs.spec.replicas ?? 0) !== replicas) {
    rs = store.mutate("replicasets", ns, rs.metadata.name, (o) => {
      o.spec.replicas = replicas;
    });
  }
  const pods = podsOwnedBy(store, rs).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const extra of pods.slice(replicas)) store.delete("pods", ns, extra.metadata.name);
  const nodes = Math.max(1, store.count("nodes"));
  for (let i = pods.length, n = 0; i < replicas; n++) {
    const podName = `${rs.metadata.name}-${suffix(`${ns}/${rs.metadata.name}/${n}`)}`;
    if (store.get("pods", ns, podName)) continue;
    const ipIndex = store.count("pods");
    store.create(replicaPod(store, rs, podName, ipIndex % nodes, ipIndex));
    const image: string = rs.spec.template.spec.containers?.[0]?.image ?? "";
    if (image.includes("crashloop")) crashLoopPod(store, ns, podName);
    else if (image.includes("does-not-exist")) imagePullBackOff(store, ns, podName, { image });
    i++;
  }
  syncReplicaSet(store, ns, rs.metadata.name);
}

/** The autoscaling/v1 Scale a GET on deployments/<name>/scale returns. */
export function scaleOf(dep: KubeObject): KubeObject {
  const labels = dep.spec?.selector?.matchLabels ?? {};
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: dep.metadata.name,
      namespace: dep.metadata.namespace,
      uid: dep.metadata.uid,
      resourceVersion: dep.metadata.resourceVersion,
      creationTimestamp: dep.metadata.creationTimestamp,
    },
    spec: { replicas: dep.spec?.replicas ?? 1 },
    status: {
      replicas: dep.status?.replicas ?? 0,
      selector: Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    },
  };
}
