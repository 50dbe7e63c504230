// Fault injectors: each edits objects the way the kubelet / node controller would report that failure
// (conditions with lastTransitionTime, container states, restart counts, taints, Events), then lets the
// controller stand-ins refresh ReplicaSet/Deployment status and Endpoints.
import type { KubeObject } from "../kube/types.ts";
import { isPodReady, podsOwnedBy, syncAfterPodChange, syncService } from "./controllers.ts";
import { hex, suffix } from "./naming.ts";
import { nodeName, replicaPod, runningPodStatus } from "./scenarios.ts";
import type { SimStore } from "./store.ts";

type Obj = Record<string, any>;

function setPodCondition(status: Obj, type: string, value: string, now: string, reason?: string, message?: string): void {
  const conds: Obj[] = status.conditions ?? [];
  const old = conds.find((c) => c.type === type);
  const next: Obj = { type, status: value, lastProbeTime: null, lastTransitionTime: old && old.status === value ? old.lastTransitionTime : now };
  if (reason) next.reason = reason;
  if (message) next.message = message;
  status.conditions = old ? conds.map((c) => (c === old ? next : c)) : [...conds, next];
}

function markUnready(status: Obj, containers: string[], now: string): void {
  const msg = `containers with unready status: [${containers.join(" ")}]`;
  setPodCondition(status, "Ready", "False", now, "ContainersNotReady", msg);
  setPodCondition(status, "ContainersReady", "False", now, "ContainersNotReady", msg);
}

function editPod(store: SimStore, ns: string, name: string, fn: (status: Obj, pod: KubeObject, now: string) => void): KubeObject {
  const now = store.timestamp();
  const pod = store.mutate("pods", ns, name, (p) => {
    p.status ??= {};
    fn(p.status, p, now);
  });
  syncAfterPodChange(store, pod);
  return pod;
}

function container(status: Obj, pod: KubeObject, which?: string): Obj {
  const list: Obj[] = (status.containerStatuses ??= []);
  const name = which ?? pod.spec?.containers?.[0]?.name ?? "app";
  let cs = list.find((c) => c.name === name);
  if (!cs) list.push((cs = { name, image: "", ready: false, started: false, restartCount: 0, state: {}, lastState: {} }));
  return cs;
}

export interface WarningEventInput {
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string; apiVersion?: string; fieldPath?: string };
  reason: string;
  message: string;
  count?: number;
  type?: "Warning" | "Normal";
  component?: string;
  host?: string;
}

/** Records a core/v1 Event; a repeat (same object + reason) bumps count and lastTimestamp, as the recorder aggregates. */
export function warningEvent(store: SimStore, e: WarningEventInput): KubeObject {
  const ns = e.involvedObject.namespace ?? "default";
  const now = store.timestamp();
  const name = `${e.involvedObject.name}.${hex(`${ns}/${e.involvedObject.kind}/${e.involvedObject.name}/${e.reason}`)}`;
  const existing = store.get("events", ns, name);
  if (existing) {
    return store.mutate("events", ns, name, (ev) => {
      ev.count = e.count ?? (ev.count ?? 1) + 1;
      ev.lastTimestamp = now;
      ev.message = e.message;
    });
  }
  const component = e.component ?? "kubelet";
  return store.create({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: ns },
    involvedObject: { apiVersion: "v1", namespace: ns, ...e.involvedObject },
    reason: e.reason,
    message: e.message,
    type: e.type ?? "Warning",
    count: e.count ?? 1,
    firstTimestamp: now,
    lastTimestamp: now,
    eventTime: null,
    source: { component, ...(e.host ? { host: e.host } : {}) },
    reportingComponent: component,
    reportingInstance: e.host ?? "",
  });
}

const podRef = (p: KubeObject) => ({ kind: "Pod", name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid });

export function crashLoopPod(
  store: SimStore,
  ns: string,
  name: string,
  opts: { container?: string; exitCode?: number; restarts?: number } = {},
): KubeObject {
  const pod = editPod(store, ns, name, (s, p, now) => {
    const cs = container(s, p, opts.container);
    cs.restartCount = opts.restarts ?? Math.max(cs.restartCount ?? 0, 0) + 5;
    cs.ready = false;
    cs.started = false;
    cs.lastState = {
      terminated: {
        exitCode: opts.exitCode ?? 1,
        reason: "Error",
        startedAt: store.timestamp(-40_000),
        finishedAt: store.timestamp(-30_000),
        containerID: cs.containerID,
      },
    };
    cs.state = {
      waiting: { reason: "CrashLoopBackOff", message: `back-off 5m0s restarting failed container=${cs.name} pod=${name}_${ns}(${p.metadata.uid})` },
    };
    markUnready(s, [cs.name], now);
  });
  const cs = pod.status.containerStatuses.find((c: Obj) => c.state.waiting);
  warningEvent(store, {
    involvedObject: { ...podRef(pod), fieldPath: `spec.containers{${cs.name}}` },
    reason: "BackOff",
    message: `Back-off restarting failed container ${cs.name} in pod ${name}_${ns}(${pod.metadata.uid})`,
    host: pod.spec?.nodeName,
  });
  return pod;
}

export function imagePullBackOff(store: SimStore, ns: string, name: string, opts: { container?: string; image?: string } = {}): KubeObject {
  let image = "";
  const pod = editPod(store, ns, name, (s, p, now) => {
    const cs = container(s, p, opts.container);
    image = opts.image ?? `${cs.image || "ghcr.io/example/app"}-missing`;
    cs.image = image;
    cs.ready = false;
    cs.started = false;
    cs.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` } };
    markUnready(s, [cs.name], now);
  });
  warningEvent(store, {
    involvedObject: podRef(pod),
    reason: "Failed",
    message: `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`,
    host: pod.spec?.nodeName,
  });
  return pod;
}

/** The container was OOM-killed and restarted: running again, lastState terminated OOMKilled (exit 137). */
export function oomKilledPod(store: SimStore, ns: string, name: string, opts: { container?: string } = {}): KubeObject {
  return editPod(store, ns, name, (s, p) => {
    const cs = container(s, p, opts.container);
    cs.restartCount = (cs.restartCount ?? 0) + 1;
    cs.lastState = {
      terminated: {
        exitCode: 137,
        reason: "OOMKilled",
        startedAt: cs.state?.running?.startedAt ?? store.timestamp(-60_000),
        finishedAt: store.timestamp(-1000),
        containerID: cs.containerID,
      },
    };
    cs.state = { running: { startedAt: store.timestamp() } };
    cs.ready = true;
    cs.started = true;
  });
}

/** Back to Running/Ready with every container running; restart counts are kept, as the kubelet keeps them. */
export function healPod(store: SimStore, ns: string, name: string): KubeObject {
  return editPod(store, ns, name, (s, p, now) => {
    s.phase = "Running";
    for (const c of p.spec?.containers ?? []) {
      const cs = container(s, p, c.name);
      cs.image = c.image;
      cs.ready = true;
      cs.started = true;
      cs.state = { running: { startedAt: now } };
    }
    setPodCondition(s, "Ready", "True", now);
    setPodCondition(s, "ContainersReady", "True", now);
    for (const c of s.conditions) if (c.type === "Ready" || c.type === "ContainersReady") delete c.reason, delete c.message;
  });
}

const UNREACHABLE = "node.kubernetes.io/unreachable";

/** What the node controller writes when the kubelet stops posting status: every condition Unknown, unreachable taints. */
export function nodeNotReady(store: SimStore, node: string): KubeObject {
  const now = store.timestamp();
  const n = store.mutate("nodes", undefined, node, (o) => {
    for (const c of o.status?.conditions ?? []) {
      if (c.status !== "Unknown") c.lastTransitionTime = now;
      c.status = "Unknown";
      c.reason = "NodeStatusUnknown";
      c.message = "Kubelet stopped posting node status.";
    }
    const taints = (o.spec.taints ?? []).filter((t: Obj) => t.key !== UNREACHABLE);
    taints.push({ key: UNREACHABLE, effect: "NoSchedule", timeAdded: now }, { key: UNREACHABLE, effect: "NoExecute", timeAdded: now });
    o.spec.taints = taints;
  });
  warningEvent(store, {
    involvedObject: { kind: "Node", name: node, namespace: "default", uid: n.metadata.uid },
    reason: "NodeNotReady",
    message: `Node ${node} status is now: NodeNotReady`,
    type: "Normal",
    component: "node-controller",
  });
  return n;
}

export function nodeReady(store: SimStore, node: string): KubeObject {
  const now = store.timestamp();
  const healthy: Record<string, [string, string, string]> = {
    Ready: ["True", "KubeletReady", "kubelet is posting ready status"],
    MemoryPressure: ["False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
    DiskPressure: ["False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
    PIDPressure: ["False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
  };
  return store.mutate("nodes", undefined, node, (o) => {
    for (const c of o.status?.conditions ?? []) {
      const h = healthy[c.type];
      if (!h) continue;
      if (c.status !== h[0]) c.lastTransitionTime = now;
      [c.status, c.reason, c.message] = h;
      c.lastHeartbeatTime = now;
    }
    const taints = (o.spec.taints ?? []).filter((t: Obj) => t.key !== UNREACHABLE && t.key !== "node.kubernetes.io/not-ready");
    if (taints.length) o.spec.taints = taints;
    else delete o.spec.taints;
  });
}

/** Every pod of the Deployment running but failing readiness: readyReplicas 0, Available False, Endpoints not ready. */
export function deploymentZeroReady(store: SimStore, ns: string, name: string): KubeObject {
  const dep = store.get("deployments", ns, name);
  if (!dep) throw new Error(`sim: deployment ${ns}/${name} not found`);
  for (const rs of store.list("replicasets", ns).filter((r) => r.metadata.ownerReferences?.some((o) => o.uid === dep.metadata.uid))) {
    for (const p of podsOwnedBy(store, rs)) {
      editPod(store, ns, p.metadata.name, (s, pod, now) => {
        for (const c of pod.spec?.containers ?? []) container(s, pod, c.name).ready = false;
        markUnready(
          s,
          (pod.spec?.containers ?? []).map((c: Obj) => c.name),
          now,
        );
      });
      warningEvent(store, {
        involvedObject: podRef(p),
        reason: "Unhealthy",
        message: "Readiness probe failed: HTTP probe failed with statuscode: 503",
        host: p.spec?.nodeName,
      });
    }
  }
  return store.get("deployments", ns, name)!;
}

/** The Service's Endpoints and EndpointSlice lose every address (selector matches nothing ready). */
export function emptyEndpoints(store: SimStore, ns: string, service: string): void {
  const ep = store.get("endpoints", ns, service);
  if (ep) store.update({ ...ep, subsets: [] });
  for (const slice of store.list("endpointslices", ns)) {
    if (slice.metadata.labels?.["kubernetes.io/service-name"] === service) store.update({ ...slice, endpoints: [] });
  }
}

/** Rebuild the Service's Endpoints/EndpointSlice from its pods again. */
export function restoreEndpoints(store: SimStore, ns: string, service: string): void {
  syncService(store, ns, service);
}

/**
 * Replace n pods the way a rollout restart would: delete, then the ReplicaSet creates a successor
 * (ADDED Pending, then MODIFIED Running/Ready). Oldest pods first; returns the new pod names.
 */
export function churnPods(store: SimStore, n: number, opts: { namespace?: string } = {}): string[] {
  const victims = store
    .list("pods", opts.namespace)
    .filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === "ReplicaSet"))
    .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
    .slice(0, n);
  const nodes = Math.max(1, store.count("nodes"));
  const created: string[] = [];
  for (const victim of victims) {
    const ns = victim.metadata.namespace!;
    store.delete("pods", ns, victim.metadata.name);
    const ref = victim.metadata.ownerReferences!.find((o) => o.kind === "ReplicaSet")!;
    const rs = store.get("replicasets", ns, ref.name);
    if (!rs) continue;
    const seq = Number(store.resourceVersion());
    const name = `${rs.metadata.name}-${suffix(`${ns}/${rs.metadata.name}/${seq}`)}`;
    const node = seq % nodes;
    const pod = replicaPod(store, rs, name, node, seq);
    const running = pod.status;
    pod.spec.nodeName = nodeName(node);
    pod.status = {
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: store.timestamp() }],
      qosClass: "Burstable",
    };
    store.create(pod);
    const up = store.patchStatus("pods", ns, name, () => running ?? runningPodStatus(store, pod.spec.containers, node, seq, name));
    syncAfterPodChange(store, up);
    created.push(name);
  }
  return created;
}

export { isPodReady };
