// pods/eviction: the PodDisruptionBudget check kube-apiserver does before deleting a pod.
// There is no disruption controller here, so the budget is computed at request time the way that
// controller would: healthy = matching pods that are Ready and not terminating; expected = the summed
// spec.replicas of the pods' controllers (ReplicaSet/StatefulSet), or 1 per pod without one.
// A PDB whose status.disruptionsAllowed is set caps the result, so a test can pin a budget by status.
import type { KubeObject } from "../kube/types.ts";
import { deletePod } from "./node-lifecycle.ts";
import { mustResource } from "./resources.ts";
import { labelSelectorMatcher } from "./selectors.ts";
import { badRequest, notFound, SimError, statusBody } from "./status.ts";
import type { SimStore } from "./store.ts";

const PODS = mustResource("pods");
const PDBS = mustResource("poddisruptionbudgets");
const SCALABLE = new Set(["ReplicaSet", "StatefulSet", "Deployment"]);

function expectedPods(store: SimStore, pods: KubeObject[]): number {
  const owners = new Map<string, number>();
  let loose = 0;
  for (const p of pods) {
    const ref = p.metadata.ownerReferences?.find((o) => o.controller);
    const owner = ref && SCALABLE.has(ref.kind) ? store.peek(mustResource(ref.kind), p.metadata.namespace, ref.name) : undefined;
    if (owner && typeof owner.spec?.replicas === "number") owners.set(`${ref!.kind}/${ref!.name}`, owner.spec.replicas);
    else loose++;
  }
  let total = loose;
  for (const n of owners.values()) total += n;
  return total;
}

function scaled(v: unknown, total: number): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.endsWith("%")) return Math.ceil((Number(v.slice(0, -1)) / 100) * total);
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function isHealthy(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");
}

export interface Budget {
  name: string;
  desired: number;
  healthy: number;
  allowed: number;
}

export function budgetFor(store: SimStore, pdb: KubeObject): Budget {
  const match = labelSelectorMatcher(pdb.spec?.selector);
  const pods = store.peekAll(PODS, pdb.metadata.namespace).filter((p) => match(p.metadata.labels));
  const expected = expectedPods(store, pods);
  const healthy = pods.filter(isHealthy).length;
  const minAvailable = scaled(pdb.spec?.minAvailable, expected);
  const maxUnavailable = scaled(pdb.spec?.maxUnavailable, expected);
  const desired = minAvailable !== undefined ? minAvailable : maxUnavailable !== undefined ? Math.max(0, expected - maxUnavailable) : expected;
  let allowed = Math.max(0, healthy - desired);
  if (typeof pdb.status?.disruptionsAllowed === "number") allowed = Math.min(allowed, pdb.status.disruptionsAllowed);
  return { name: pdb.metadata.name, desired, healthy, allowed };
}

/** Returns the 201 Status body, or throws the Status kube-apiserver would send (404/400/429/500). */
export function evict(
  store: SimStore,
  served: { policyV1?: boolean },
  ns: string,
  name: string,
  body: KubeObject | undefined,
  lifecycle = false,
): Record<string, unknown> {
  const pod = store.peek(PODS, ns, name);
  if (!pod) throw notFound("pods", "", name);
  if (body) {
    if (body.kind && body.kind !== "Eviction") throw badRequest(`expected Eviction, got ${body.kind}`);
    if (body.apiVersion === "policy/v1" && served.policyV1 === false) {
      throw badRequest(`no kind "Eviction" is registered for version "policy/v1" in scheme`);
    }
    if (body.metadata?.name && body.metadata.name !== name) {
      throw badRequest(`name in URL does not match name in Eviction object`);
    }
  }
  const pre = body?.deleteOptions?.preconditions;
  const phase = pod.status?.phase;
  // Pods that are not running cannot be disrupted further, so the API skips the budget for them.
  if (phase !== "Succeeded" && phase !== "Failed" && phase !== "Pending") {
    const pdbs = store.peekAll(PDBS, ns).filter((pdb) => pdb.spec?.selector && labelSelectorMatcher(pdb.spec.selector)(pod.metadata.labels));
    if (pdbs.length > 1) {
      throw new SimError(500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    if (pdbs.length === 1) {
      const b = budgetFor(store, pdbs[0]!);
      if (b.allowed <= 0) {
        throw new SimError(429, "Cannot evict pod as it would violate the pod's disruption budget.", "TooManyRequests", {
          retryAfterSeconds: 1,
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${b.name} needs ${b.desired} healthy pods and has ${b.healthy} currently`,
            },
          ],
        });
      }
    }
  }
  deletePod(store, ns, name, { preconditions: pre, gracePeriodSeconds: body?.deleteOptions?.gracePeriodSeconds }, lifecycle);
  return statusBody(201, "");
}
