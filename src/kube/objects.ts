// Reading Kubernetes objects: timestamps, status conditions, owner chains, and the read-only view of
// the informer caches. Shared by the rules (src/watchers/), incident correlation (src/correlation/) and
// the runtime; pure functions of the objects they are given.
import type { KubeObject, OwnerReference } from "./types.ts";

/** Read-only view of the informer caches of every watched kind. */
export interface CacheView {
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string): Iterable<KubeObject>;
}

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

// ---------- time ----------

/** Milliseconds since epoch from an RFC 3339 string (or a Date, which list responses of some clients carry). */
export function parseTime(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== "string" || value === "") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function creationTime(obj: KubeObject): number | undefined {
  return parseTime(obj.metadata.creationTimestamp);
}

/**
 * The latest write the API server recorded in metadata.managedFields (only writes to `subresource`
 * when given, e.g. "status"): the object's content, so the state it shows, has held at least since.
 * Undefined when none is recorded (the controller's caches drop managedFields; scan sees them).
 */
export function lastWriteTime(obj: KubeObject | undefined, subresource?: string): number | undefined {
  const fields: unknown = obj?.metadata.managedFields;
  if (!Array.isArray(fields)) return undefined;
  let latest: number | undefined;
  for (const f of fields as { time?: string; subresource?: string }[]) {
    if (subresource !== undefined && f?.subresource !== subresource) continue;
    const t = parseTime(f?.time);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  return latest;
}

// ---------- conditions ----------

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastHeartbeatTime?: string;
}

export function findCondition(obj: KubeObject, type: string): Condition | undefined {
  const conditions: unknown = obj.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c: Condition) => c?.type === type);
}

/** " (reason: message)" for a condition, or "" when it says nothing. */
export function describeCondition(c: Condition | undefined): string {
  if (!c) return "";
  const parts = [c.reason, c.message].filter((p) => p && p.trim() !== "");
  return parts.length ? ` (${parts.join(": ")})` : "";
}

// ---------- ownership ----------

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
    if (!next && owner.kind === "ReplicaSet" && hash && owner.name.endsWith(`-${hash}`)) {
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
