// What kube-apiserver, the kubelet and kube-controller-manager do around a dead node, for healing tests
// (opt-in: SimOptions.nodeLifecycle): a pod deleted or evicted on a NotReady node stays Terminating
// (deletionTimestamp set; no kubelet confirms it) until force-deleted (gracePeriodSeconds 0); the
// `node.kubernetes.io/out-of-service` taint on a NotReady node makes pod GC force-delete its pods when the
// simulated server is ≥ 1.28; ReplicaSet and StatefulSet controllers recreate what is gone on another
// Ready, schedulable node (a StatefulSet only once the old pod is really gone, as the real one).
import type { KubeObject, OwnerReference } from "../kube/types.ts";
import { isPodReady, syncAfterPodChange } from "./controllers.ts";
import { mustResource } from "./resources.ts";
import type { SimStore } from "./store.ts";

const PODS = mustResource("pods");
const NODES = mustResource("nodes");
const OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

const nodeReady = (n: KubeObject | undefined) => (n?.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
const controllerOf = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);

export function supportsOutOfService(v: VersionInfo): boolean {
  return Number(v.major) > 1 || (Number(v.major) === 1 && Number.parseInt(v.minor, 10) >= 28);
}

/** DELETE of a pod (or its eviction): graceful deletion on a dead node never finishes; grace 0 always does. */
export function deletePod(
  store: SimStore,
  ns: string,
  name: string,
  opts: { gracePeriodSeconds?: number; preconditions?: { resourceVersion?: string; uid?: string } } | undefined,
  lifecycle: boolean,
): KubeObject {
  const pod = store.peek(PODS, ns, name);
  const node = pod?.spec?.nodeName ? store.peek(NODES, undefined, pod.spec.nodeName) : undefined;
  if (!lifecycle || !pod || !node || nodeReady(node) || opts?.gracePeriodSeconds === 0) return store.delete(PODS, ns, name, opts?.preconditions);
  if (opts?.preconditions?.uid && opts.preconditions.uid !== pod.metadata.uid) return store.delete(PODS, ns, name, opts.preconditions); // throws the 409
  if (pod.metadata.deletionTimestamp) return pod;
  return store.mutate(PODS, ns, name, (p) => {
    p.metadata.deletionTimestamp = store.timestamp(30_000);
    p.metadata.deletionGracePeriodSeconds = opts?.gracePeriodSeconds ?? 30;
  });
}

/** Starts the controllers on the store; returns a function that stops them. */
export function installNodeLifecycle(store: SimStore, version: VersionInfo): () => void {
  let queued = false;
  const dirtyNodes = new Set<string>();
  const dirtyOwners = new Map<string, { ns: string; ref: OwnerReference }>();
  const run = () => {
    queued = false;
    for (const name of [...dirtyNodes]) {
      dirtyNodes.delete(name);
      releaseOutOfService(store, name, version);
    }
    for (const [k, { ns, ref }] of [...dirtyOwners]) {
      dirtyOwners.delete(k);
      reconcileOwner(store, ns, ref);
    }
  };
  const later = () => {
    if (!queued) {
      queued = true;
      queueMicrotask(run);
    }
  };
  const offPods = store.subscribe(PODS, (ev) => {
    const ref = controllerOf(ev.object);
    const gone = ev.type === "DELETED" || (ev.object.metadata.deletionTimestamp && !ev.prev?.metadata.deletionTimestamp);
    if (!gone || !ref || (ref.kind !== "ReplicaSet" && ref.kind !== "StatefulSet")) return;
    dirtyOwners.set(`${ev.object.metadata.namespace}/${ref.kind}/${ref.name}`, { ns: ev.object.metadata.namespace!, ref });
    later();
  });
  const offNodes = store.subscribe(NODES, (ev) => {
    if (ev.type === "DELETED") return;
    dirtyNodes.add(ev.object.metadata.name);
    later();
  });
  return () => {
    offPods();
    offNodes();
  };
}

function releaseOutOfService(store: SimStore, node: string, version: VersionInfo): void {
  const n = store.peek(NODES, undefined, node);
  if (!n || nodeReady(n) || !supportsOutOfService(version)) return;
  if (!(n.spec?.taints ?? []).some((t: any) => t.key === OUT_OF_SERVICE && t.effect === "NoExecute")) return;
  for (const p of store.peekAll(PODS).filter((p) => p.spec?.nodeName === node)) {
    if (controllerOf(p)?.kind === "DaemonSet") continue;
    store.delete(PODS, p.metadata.namespace, p.metadata.name);
  }
}

function schedulableNode(store: SimStore): string | undefined {
  const ok = store
    .peekAll(NODES)
    .filter((n) => nodeReady(n) && !n.spec?.unschedulable)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const load = (n: KubeObject) => store.peekAll(PODS).filter((p) => p.spec?.nodeName === n.metadata.name).length;
  return ok.sort((a, b) => load(a) - load(b))[0]?.metadata.name;
}

function reconcileOwner(store: SimStore, ns: string, ref: OwnerReference): void {
  const owner = store.peek(mustResource(ref.kind), ns, ref.name);
  if (!owner || owner.metadata.uid !== ref.uid) return;
  const pods = store.peekAll(PODS, ns).filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
  const want = owner.spec?.replicas ?? 1;
  if (ref.kind === "ReplicaSet") {
    const active = pods.filter((p) => !p.metadata.deletionTimestamp).length;
    for (let i = active; i < want; i++) createPod(store, owner, ref, `${owner.metadata.name}-${store.resourceVersion()}r${i}`);
  } else {
    for (let i = 0; i < want; i++) {
      const name = `${owner.metadata.name}-${i}`;
      if (!pods.some((p) => p.metadata.name === name)) createPod(store, owner, ref, name);
    }
  }
}

function createPod(store: SimStore, owner: KubeObject, ref: OwnerReference, name: string): void {
  const node = schedulableNode(store);
  if (!node) return; // Pending in reality; nowhere to run here
  const now = store.timestamp();
  const cond = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
  const template = owner.spec?.template ?? {};
  const pod = store.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      ownerReferences: [{ ...ref, controller: true } as OwnerReference],
    },
    spec: { ...(template.spec ?? {}), nodeName: node },
    status: { phase: "Running", conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map(cond), startTime: now },
  });
  if (isPodReady(pod)) syncAfterPodChange(store, pod);
}
