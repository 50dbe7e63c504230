// Small builders for Kubernetes objects in tests, an in-memory CacheView and a rule context with an
// injected clock. Builders take the fields tests vary most as options and deep-merge `extra` last.
import { Config } from "../../src/config/load.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import type { CacheView } from "../../src/kube/objects.ts";
import type { RuleContext } from "../../src/watchers/types.ts";
import { ruleSettings } from "../../src/watchers/settings.ts";

/** Fixed epoch used by tests: 2025-06-09T08:00:00Z. */
export const T0 = Date.parse("2025-06-09T08:00:00Z");
export const sec = (n: number) => n * 1000;
export const min = (n: number) => n * 60_000;
/** RFC 3339 for T0 + offset ms. */
export const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString().replace(/\.000Z$/, "Z");

type Json = Record<string, unknown>;
const isPlain = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep merge; arrays and scalars in `over` replace, `undefined` deletes. */
export function merge<T>(base: T, over: unknown): T {
  if (!isPlain(base) || !isPlain(over)) return (over === undefined ? base : over) as T;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k], v) : v;
  }
  return out as T;
}

export function condition(type: string, status: string, sinceMs: number, reason?: string, message?: string) {
  return { type, status, lastTransitionTime: at(sinceMs), ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function meta(name: string, namespace: string | undefined, createdMs: number) {
  return { name, ...(namespace !== undefined ? { namespace } : {}), uid: `uid-${name}`, creationTimestamp: at(createdMs) };
}

export interface ContainerOpts {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  waiting?: string;
  lastTerminated?: { reason: string; exitCode: number; finishedMs: number };
  terminated?: { reason: string; exitCode: number; finishedMs: number };
}
export function container(o: ContainerOpts = {}): Json {
  const term = (t: NonNullable<ContainerOpts["terminated"]>) => ({
    terminated: { reason: t.reason, exitCode: t.exitCode, finishedAt: at(t.finishedMs) },
  });
  return {
    name: o.name ?? "app",
    ready: o.ready ?? !o.waiting,
    restartCount: o.restartCount ?? 0,
    state: o.waiting ? { waiting: { reason: o.waiting } } : o.terminated ? term(o.terminated) : { running: { startedAt: at(-min(30)) } },
    lastState: o.lastTerminated ? term(o.lastTerminated) : {},
  };
}

export interface PodOpts {
  name?: string;
  namespace?: string;
  node?: string;
  phase?: string;
  createdMs?: number;
  containers?: Json[];
  initContainers?: Json[];
  conditions?: Json[];
  extra?: unknown;
}
export function pod(o: PodOpts = {}): KubeObject {
  const base: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta(o.name ?? "web-1", o.namespace ?? "default", o.createdMs ?? -min(60)),
    spec: { nodeName: o.node ?? "pi-1", containers: [{ name: "app", image: "nginx" }] },
    status: {
      phase: o.phase ?? "Running",
      conditions: o.conditions ?? [condition("Ready", "True", -min(30)), condition("PodScheduled", "True", -min(60))],
      containerStatuses: o.containers ?? [container()],
      ...(o.initContainers ? { initContainerStatuses: o.initContainers } : {}),
    },
  };
  return merge(base, o.extra);
}

export function node(
  name = "pi-1",
  o: { ready?: string; readySinceMs?: number; conditions?: Json[]; unschedulable?: boolean; extra?: unknown } = {},
): KubeObject {
  const base: KubeObject = {
    apiVersion: "v1",
    kind: "Node",
    metadata: meta(name, undefined, -min(600)),
    spec: o.unschedulable
      ? { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: at(-min(5)) }] }
      : {},
    status: {
      conditions: o.conditions ?? [
        condition("Ready", o.ready ?? "True", o.readySinceMs ?? -min(300), o.ready === "Unknown" ? "NodeStatusUnknown" : "KubeletReady"),
        condition("MemoryPressure", "False", -min(300)),
        condition("DiskPressure", "False", -min(300)),
        condition("PIDPressure", "False", -min(300)),
      ],
    },
  };
  return merge(base, o.extra);
}

export function deployment(
  o: {
    name?: string;
    replicas?: number;
    ready?: number;
    available?: number;
    conditions?: Json[];
    generation?: number;
    observedGeneration?: number;
    extra?: unknown;
  } = {},
): KubeObject {
  const replicas = o.replicas ?? 3;
  const ready = o.ready ?? replicas;
  const available = o.available ?? ready;
  const base: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { ...meta(o.name ?? "web", "default", -min(600)), generation: o.generation ?? 1 },
    spec: { replicas, selector: { matchLabels: { app: o.name ?? "web" } } },
    status: {
      observedGeneration: o.observedGeneration ?? o.generation ?? 1,
      replicas,
      readyReplicas: ready,
      availableReplicas: available,
      ...(replicas - available > 0 ? { unavailableReplicas: replicas - available } : {}),
      conditions: o.conditions ?? [
        condition("Available", available >= replicas ? "True" : "False", -min(10)),
        condition("Progressing", "True", -min(10), "NewReplicaSetAvailable"),
      ],
    },
  };
  return merge(base, o.extra);
}

export function service(
  o: { name?: string; namespace?: string; selector?: Record<string, string> | null; clusterIP?: string; type?: string; extra?: unknown } = {},
): KubeObject {
  const base: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(o.name ?? "web", o.namespace ?? "default", -min(600)),
    spec: {
      type: o.type ?? "ClusterIP",
      clusterIP: o.clusterIP ?? "10.43.0.10",
      ...(o.selector === null ? {} : { selector: o.selector ?? { app: o.name ?? "web" } }),
      ports: [{ port: 80 }],
    },
  };
  return merge(base, o.extra);
}

/** `ready` per endpoint: true, false, or null (unset, which means ready). */
export function endpointSlice(
  service: string,
  ready: (boolean | null)[],
  o: { name?: string; namespace?: string; lastChangeMs?: number; addressType?: string } = {},
): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    addressType: o.addressType ?? "IPv4",
    metadata: {
      ...meta(o.name ?? `${service}-abcde`, o.namespace ?? "default", -min(600)),
      labels: { "kubernetes.io/service-name": service },
      ...(o.lastChangeMs !== undefined ? { annotations: { "endpoints.kubernetes.io/last-change-trigger-time": at(o.lastChangeMs) } } : {}),
    },
    endpoints: ready.map((r, i) => ({
      addresses: [`10.42.0.${i + 1}`],
      conditions: r === null ? {} : { ready: r },
      targetRef: { kind: "Pod", name: `${service}-${i}` },
    })),
  };
}

export function endpoints(service: string, ready: number, notReady: number, o: { namespace?: string } = {}): KubeObject {
  const addr = (n: number, off: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.42.0.${off + i}` }));
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: meta(service, o.namespace ?? "default", -min(600)),
    subsets:
      ready + notReady
        ? [
            {
              ...(ready ? { addresses: addr(ready, 1) } : {}),
              ...(notReady ? { notReadyAddresses: addr(notReady, 100) } : {}),
              ports: [{ port: 80 }],
            },
          ]
        : [],
  };
}

export function event(
  o: {
    name?: string;
    type?: string;
    reason?: string;
    message?: string;
    count?: number;
    firstMs?: number;
    lastMs?: number;
    involved?: { kind: string; name: string; namespace?: string };
    host?: string;
    extra?: unknown;
  } = {},
): KubeObject {
  const involved = o.involved ?? { kind: "Pod", name: "web-1", namespace: "default" };
  const base: KubeObject = {
    apiVersion: "v1",
    kind: "Event",
    metadata: meta(o.name ?? `${involved.name}.17a1`, involved.namespace ?? "default", o.firstMs ?? 0),
    involvedObject: involved,
    type: o.type ?? "Warning",
    reason: o.reason ?? "BackOff",
    message: o.message ?? "Back-off restarting failed container app in pod web-1",
    count: o.count ?? 1,
    firstTimestamp: at(o.firstMs ?? 0),
    lastTimestamp: at(o.lastMs ?? o.firstMs ?? 0),
    source: o.host ? { component: "kubelet", host: o.host } : { component: "kubelet" },
  };
  return merge(base, o.extra);
}

/** A CacheView over a fixed list of objects, keyed by each object's `kind`. */
export function memCache(objects: KubeObject[] = []): CacheView & { put(o: KubeObject): void } {
  const items = [...objects];
  return {
    get: (kind, namespace, name) => items.find((o) => o.kind === kind && (o.metadata.namespace ?? "") === namespace && o.metadata.name === name),
    list: (kind, namespace) => items.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)),
    put(o) {
      const i = items.findIndex((x) => x.kind === o.kind && x.metadata.namespace === o.metadata.namespace && x.metadata.name === o.metadata.name);
      if (i >= 0) items[i] = o;
      else items.push(o);
    },
  };
}

/**
 * A rule context whose clock the test moves; the memo persists across `at()` calls like the runtime's
 * per-object memory does.
 */
export function ruleContext(o: { config?: Record<string, string>; cache?: CacheView; nowMs?: number } = {}) {
  const ctx: RuleContext = { now: T0 + (o.nowMs ?? 0), settings: ruleSettings(Config.with(o.config ?? {})), cache: o.cache ?? memCache(), memo: {} };
  return {
    ctx,
    /** Moves the clock to T0 + offset and returns the context. */
    at(offsetMs: number): RuleContext {
      ctx.now = T0 + offsetMs;
      return ctx;
    },
  };
}
