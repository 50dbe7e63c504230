// Scenario builders shared by the alerting and incident tests: a Deployment with its ReplicaSet,
// Pods, Service and EndpointSlice in a memCache, anomalies as the rules would raise them, and a
// driver that runs correlate() + step() the way the runtime does each tick.
import type { AlertingConfig } from "../../../src/alerting/config.ts";
import { DEFAULT_ALERTING } from "../../../src/alerting/config.ts";
import { emptyPipelineState, step, type PipelineState } from "../../../src/alerting/pipeline.ts";
import type { Silence } from "../../../src/alerting/silence.ts";
import type { Notification } from "../../../src/model/alert.ts";
import { correlate, emptyIncidentState, type IncidentState } from "../../../src/correlation/incidents.ts";
import type { IncidentChange } from "../../../src/model/incident.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { anomalyKey, type Anomaly } from "../../../src/model/anomaly.ts";
import type { CacheView } from "../../../src/kube/objects.ts";
import { at, deployment, endpointSlice, node, pod, service } from "../../support/fixtures.ts";

export function anomaly(over: Partial<Anomaly> = {}): Anomaly {
  return {
    kind: "Pod",
    namespace: "default",
    name: "web-1",
    node: "pi-1",
    reason: "CrashLoopBackOff",
    severity: "warning",
    category: "Condition",
    message: "Container app keeps crashing.",
    eventTime: at(0),
    ...over,
  };
}

export const podCrash = (name: string, nodeName = "pi-1", o: Partial<Anomaly> = {}) => anomaly({ name, node: nodeName, ...o });
export const nodeDown = (name = "pi-1", o: Partial<Anomaly> = {}) =>
  anomaly({
    kind: "Node",
    namespace: "",
    name,
    node: name,
    reason: "NodeNotReady",
    severity: "critical",
    category: "Node",
    message: `Node ${name} NotReady.`,
    ...o,
  });
export const deployUnready = (name = "web", o: Partial<Anomaly> = {}) =>
  anomaly({
    kind: "Deployment",
    name,
    node: "",
    reason: "UnreadyReplicaRatio",
    severity: "critical",
    category: "Warning",
    message: "3 of 3 replicas unready (100%, threshold 60%)",
    ...o,
  });
export const deployUnavailable = (name = "web", o: Partial<Anomaly> = {}) =>
  anomaly({
    kind: "Deployment",
    name,
    node: "",
    reason: "UnavailableReplica",
    severity: "warning",
    category: "Warning",
    message: "3 replicas unavailable",
    ...o,
  });
export const endpointsEmpty = (name = "web", o: Partial<Anomaly> = {}) =>
  anomaly({
    kind: "Endpoints",
    name,
    node: "",
    reason: "NoReadyAddress",
    severity: "critical",
    category: "Endpoint",
    message: `Service default/${name} has no ready endpoint.`,
    ...o,
  });

export const activeOf = (...as: Anomaly[]) => new Map(as.map((a) => [anomalyKey(a), a]));

/** A Deployment "app" with a ReplicaSet, `pods` Pods (node per index), a Service and its EndpointSlice. */
export function app(name: string, o: { pods?: number; nodeOf?: (i: number) => string; ready?: number; namespace?: string } = {}): KubeObject[] {
  const n = o.pods ?? 3;
  const ns = o.namespace ?? "default";
  const hash = "5d4f8c";
  const rs = `${name}-${hash}`;
  const ready = o.ready ?? n;
  const dep = deployment({ name, replicas: n, ready });
  dep.metadata.namespace = ns;
  const replicaSet: KubeObject = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: rs,
      namespace: ns,
      labels: { app: name, "pod-template-hash": hash },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name, uid: `uid-${name}`, controller: true }],
    },
    spec: { replicas: n },
  };
  const pods = Array.from({ length: n }, (_, i) =>
    pod({
      name: `${name}-${i + 1}`,
      namespace: ns,
      node: o.nodeOf?.(i) ?? "pi-1",
      extra: {
        metadata: {
          labels: { app: name, "pod-template-hash": hash },
          ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `uid-${rs}`, controller: true }],
        },
      },
    }),
  );
  return [
    dep,
    replicaSet,
    ...pods,
    service({ name, namespace: ns }),
    endpointSlice(
      name,
      Array.from({ length: n }, (_, i) => i < ready),
      { namespace: ns },
    ),
  ];
}

export { node };

/** A CacheView indexed by kind/namespace/name, like the runtime's informer caches (memCache scans a list). */
export function indexedCache(objects: KubeObject[]): CacheView {
  const byKey = new Map<string, KubeObject>();
  const byKind = new Map<string, KubeObject[]>();
  for (const o of objects) {
    byKey.set(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
    byKind.set(o.kind!, [...(byKind.get(o.kind!) ?? []), o]);
  }
  return {
    get: (kind, namespace, name) => byKey.get(`${kind}/${namespace}/${name}`),
    list: (kind, namespace) => (byKind.get(kind) ?? []).filter((o) => namespace === undefined || o.metadata.namespace === namespace),
  };
}

export const testConfig = (over: Partial<AlertingConfig> = {}): AlertingConfig => ({ ...DEFAULT_ALERTING, ...over });

/** Runs correlate() then step() like the runtime's tick, recording every change and notification. */
export class Driver {
  incidents: IncidentState = emptyIncidentState();
  pipeline: PipelineState = emptyPipelineState();
  readonly sent: Notification[] = [];
  readonly changes: IncidentChange[] = [];
  silences: Silence[] = [];

  constructor(
    public cache: CacheView,
    public cfg: AlertingConfig = testConfig(),
  ) {}

  tick(active: ReadonlyMap<string, Anomaly>, now: number): Notification[] {
    const c = correlate(this.incidents, active, this.cache, now);
    this.incidents = c.state;
    this.changes.push(...c.changes);
    const s = step(this.pipeline, { incidentChanges: c.changes, silences: this.silences }, now, this.cfg);
    this.pipeline = s.state;
    this.sent.push(...s.notifications);
    return s.notifications;
  }

  byChannel(ch: string): Notification[] {
    return this.sent.filter((n) => n.channel === ch);
  }

  /** "channel:status:level" per notification, in order. */
  summary(): string[] {
    return this.sent.map((n) => `${n.channel}:${n.payload.status}:${n.level}`);
  }
}
