// Names the likely trigger of an incident: the recorded changes in the CHANGES_LOOKBACK before it
// started, to its own objects, their owners, the config their Pods reference and their nodes, ranked
// same object > owner > referenced config > node, then nearest in time. A change after the incident
// started is never blamed. Pure: the changes, the cache view and the clock are passed in.
import { ownerChain, type CacheView, type ObjectRef } from "../kube/objects.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Incident, LikelyTrigger } from "../model/incident.ts";
import { subjectOf } from "../correlation/topology.ts";
import { actorOf, describeChange, type ChangeRecord } from "../model/change.ts";

export type Relation = "object" | "owner" | "config" | "node";
const RANK: Record<Relation, number> = { object: 0, owner: 1, config: 2, node: 3 };
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

const key = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** ConfigMaps and Secrets a Pod spec reads (volumes, projected volumes, env and envFrom). */
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are open-ended JSON; every read below is guarded
export function configRefs(podSpec: Record<string, any> | undefined, namespace: string): ObjectRef[] {
  if (!podSpec || typeof podSpec !== "object") return [];
  const out: ObjectRef[] = [];
  const add = (kind: "ConfigMap" | "Secret", name: unknown) => typeof name === "string" && name && out.push({ kind, namespace, name });
  const volumes = Array.isArray(podSpec.volumes) ? podSpec.volumes : [];
  for (const v of volumes) {
    add("ConfigMap", v?.configMap?.name);
    add("Secret", v?.secret?.secretName);
    for (const s of Array.isArray(v?.projected?.sources) ? v.projected.sources : []) {
      add("ConfigMap", s?.configMap?.name);
      add("Secret", s?.secret?.name);
    }
  }
  const containers = [
    ...(Array.isArray(podSpec.initContainers) ? podSpec.initContainers : []),
    ...(Array.isArray(podSpec.containers) ? podSpec.containers : []),
  ];
  for (const c of containers) {
    for (const e of Array.isArray(c?.env) ? c.env : []) {
      add("ConfigMap", e?.valueFrom?.configMapKeyRef?.name);
      add("Secret", e?.valueFrom?.secretKeyRef?.name);
    }
    for (const e of Array.isArray(c?.envFrom) ? c.envFrom : []) {
      add("ConfigMap", e?.configMapRef?.name);
      add("Secret", e?.secretRef?.name);
    }
  }
  return out;
}

/** Every object related to the incident, with the closest relation each has. */
export function relatedObjects(incident: Incident, cache: CacheView): Map<string, Relation> {
  const out = new Map<string, Relation>();
  const note = (r: ObjectRef, rel: Relation) => {
    const k = key(r.kind, r.kind === "Node" ? "" : r.namespace, r.name);
    const had = out.get(k);
    if (!had || RANK[rel] < RANK[had]) out.set(k, rel);
  };
  for (const m of incident.members) {
    const subject = subjectOf(m.anomaly);
    note(subject, "object");
    if (m.anomaly.node) note({ kind: "Node", namespace: "", name: m.anomaly.node }, "node");
    const obj: KubeObject | undefined = cache.get(subject.kind, subject.namespace, subject.name);
    if (!obj) continue;
    const chain = ownerChain(obj, cache);
    for (const o of chain) note(o, "owner");
    if (subject.kind === "Pod") {
      for (const c of configRefs(obj.spec, subject.namespace)) note(c, "config");
      const node = obj.spec?.nodeName;
      if (typeof node === "string" && node) note({ kind: "Node", namespace: "", name: node }, "node");
    }
    // A workload's template, and the template of the workload owning a Pod: config a new Pod would read.
    for (const w of [subject, ...chain]) {
      if (!WORKLOADS.has(w.kind)) continue;
      const wo = w === subject ? obj : cache.get(w.kind, w.namespace, w.name);
      for (const c of configRefs(wo?.spec?.template?.spec, w.namespace)) note(c, "config");
    }
  }
  for (const w of incident.scope.workloadsDown) {
    const [kind, namespace, name] = w.split("/");
    if (kind && name) note({ kind, namespace: namespace ?? "", name }, "owner");
  }
  return out;
}

/**
 * When the incident started: when it opened, in the controller's clock. Not the anomalies' own times: a
 * Pod's last termination or an Event can be stamped earlier than the change that caused them (clock skew,
 * a restart count reached only after the rollout), and a trigger must not be excluded for that.
 */
export function incidentStart(incident: Incident): number {
  return incident.openedAt;
}

/** "2 min", "40 s", "1 h 5 min". */
export function humanGap(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ""}`;
}

/**
 * The best-ranked change among `changes` (any order) that is related to the incident and happened in
 * [start − lookback, start]; undefined when none is.
 */
export function likelyTrigger(incident: Incident, changes: readonly ChangeRecord[], cache: CacheView, lookbackMs: number): LikelyTrigger | undefined {
  const start = incidentStart(incident);
  const related = relatedObjects(incident, cache);
  let best: { c: ChangeRecord; rel: Relation } | undefined;
  for (const c of changes) {
    if (c.time > start || c.time < start - lookbackMs) continue;
    const rel = related.get(key(c.kind, c.kind === "Node" ? "" : c.namespace, c.name));
    if (!rel) continue;
    if (!best || RANK[rel] < RANK[best.rel] || (RANK[rel] === RANK[best.rel] && c.time > best.c.time)) best = { c, rel };
  }
  if (!best) return undefined;
  const { c, rel } = best;
  const actor = actorOf(c);
  return {
    summary: `Started ${humanGap(start - c.time)} after ${describeChange(c, { namespace: false, was: true })}`,
    time: new Date(c.time).toISOString(),
    kind: c.kind,
    namespace: c.namespace,
    name: c.name,
    ...(actor ? { actor } : {}),
    relation: rel,
  };
}
