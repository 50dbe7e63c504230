// Whether a Deployment's newest revision is a bad rollout that should be rolled back, from Kubernetes
// signals alone (no policy needed): within the watch window after the revision started, its Pods
// crash-loop, cannot pull their image, or stay unready past the readiness grace. Pure: the caller
// passes the objects and the time. What to restore is the previous revision's pod template (what
// `kubectl rollout undo` does) or, without ReplicaSet history, the image named by the
// `neurocontroller.version.previous` annotation.
import type { KubeObject } from "../kube/types.ts";

export const REVISION = "deployment.kubernetes.io/revision";
export const OPT_OUT = "neurocontroller.io/rollback";
export const PREVIOUS_IMAGE = "neurocontroller.version.previous";
/** Set by our rollback: the ReplicaSet (pod-template-hash) left and the one restored, so no second rollback flaps between them. */
export const ROLLED_BACK_FROM = "neurocontroller.io/rolled-back-from";
export const ROLLED_BACK_TO = "neurocontroller.io/rolled-back-to";
const HASH = "pod-template-hash";
const BAD_WAITING = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "InvalidImageName",
]);

export interface RollbackSettings {
  watchMs: number;
  /** A new Pod not ready this long after its creation counts as failing readiness. */
  readinessGraceMs: number;
}

export type RollbackDecision =
  | {
      kind: "rollback";
      /** ReplicaSet of the bad revision, and its revision number. */
      from: { replicaSet: string; revision: number; hash: string };
      /** What is restored: a ReplicaSet's template, or only the first container's image. */
      to: { replicaSet: string; revision: number; hash: string; template: unknown } | { image: string; container: string };
      evidence: string;
      /** Start of the bad revision (ms), the episode of this decision. */
      since: number;
    }
  | { kind: "refuse"; limit: string; evidence: string; from: { replicaSet: string; revision: number; hash: string }; since: number };

const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.[REVISION] ?? 0);
const ms = (t: unknown) => (typeof t === "string" ? Date.parse(t) : Number.NaN);
const hashOf = (rs: KubeObject) => rs.metadata.labels?.[HASH] ?? rs.metadata.name;

export function ownedBy(owner: KubeObject, objects: Iterable<KubeObject>): KubeObject[] {
  const out: KubeObject[] = [];
  for (const o of objects) if (o.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid)) out.push(o);
  return out;
}

/** Objects by the uid of their controlling owner: one pass, so a tick over every Deployment stays linear in the cluster. */
export function byControllerUid(objects: Iterable<KubeObject>): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const uid = o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
    if (!uid) continue;
    const list = out.get(uid);
    if (list) list.push(o);
    else out.set(uid, [o]);
  }
  return out;
}

/** Why a Pod of the new revision is failing, or undefined when it is not (yet). */
export function podFailure(pod: KubeObject, now: number, readinessGraceMs: number): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const reason = cs.state?.waiting?.reason;
    if (reason && BAD_WAITING.has(reason)) {
      const restarts = cs.restartCount ? ` (${cs.restartCount} restarts)` : "";
      return `Pod ${pod.metadata.name}: container ${cs.name} ${reason}${restarts}`;
    }
  }
  const ready = (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True");
  const created = ms(pod.metadata.creationTimestamp);
  if (!ready && !pod.metadata.deletionTimestamp && Number.isFinite(created) && now - created >= readinessGraceMs) {
    return `Pod ${pod.metadata.name}: not ready ${Math.round((now - created) / 1000)}s after creation`;
  }
  return undefined;
}

/** The pod template to restore: the ReplicaSet's, without the hash label the controller adds. */
export function restorableTemplate(rs: KubeObject): unknown {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels[HASH];
  return template;
}

export function decideRollback(
  dep: KubeObject,
  replicaSets: KubeObject[],
  pods: KubeObject[],
  now: number,
  s: RollbackSettings,
  /** Evidence that the workload's SLO burns now (a policy allowing rollback), counted as a failure of the new revision. */
  sloBurn?: string,
): RollbackDecision | undefined {
  if (dep.metadata.annotations?.[OPT_OUT] === "false") return undefined;
  const sets = ownedBy(dep, replicaSets).sort((a, b) => revisionOf(b) - revisionOf(a));
  const current = sets.find((rs) => String(revisionOf(rs)) === dep.metadata.annotations?.[REVISION]) ?? sets[0];
  if (!current) return undefined;
  // The revision started when its ReplicaSet was created (a template change always creates one): Pods
  // re-created later (a node reboot) do not make an old revision look like a new rollout.
  const since = ms(current.metadata.creationTimestamp);
  if (!Number.isFinite(since) || now - since > s.watchMs) return undefined;
  const newPods = ownedBy(current, pods);
  const failures = newPods.map((p) => podFailure(p, now, s.readinessGraceMs)).filter((f): f is string => f !== undefined);
  if (failures.length === 0 && !sloBurn) return undefined;
  const from = { replicaSet: current.metadata.name, revision: revisionOf(current), hash: hashOf(current) };
  const podEvidence = failures.length
    ? `${failures.length} of ${newPods.length} new Pods failing: ${failures.slice(0, 3).join("; ")}${failures.length > 3 ? "; …" : ""}`
    : "";
  const evidence = [podEvidence, sloBurn ? `SLO burning within the rollout watch: ${sloBurn}` : ""].filter(Boolean).join("; ");
  const previous = sets.find((rs) => rs !== current && revisionOf(rs) < from.revision);
  const annotations = dep.metadata.annotations ?? {};
  if (annotations[ROLLED_BACK_TO] === from.hash) {
    return { kind: "refuse", limit: "already rolled back to this revision, which fails too: a person must choose", evidence, from, since };
  }
  if (previous) {
    const to = { replicaSet: previous.metadata.name, revision: revisionOf(previous), hash: hashOf(previous), template: restorableTemplate(previous) };
    if (annotations[ROLLED_BACK_FROM] === to.hash) {
      return {
        kind: "refuse",
        limit: `revision ${to.revision} was rolled back from before: never twice to the same revision`,
        evidence,
        from,
        since,
      };
    }
    return { kind: "rollback", from, to, evidence, since };
  }
  const image = annotations[PREVIOUS_IMAGE];
  const container = dep.spec?.template?.spec?.containers?.[0];
  if (image && container && container.image !== image) return { kind: "rollback", from, to: { image, container: container.name }, evidence, since };
  // A first revision failing is not a bad rollout (there is nothing to go back to): the rules alert on it.
  if (from.revision <= 1) return undefined;
  return {
    kind: "refuse",
    limit: "no previous revision in the ReplicaSet history and no neurocontroller.version.previous annotation",
    evidence,
    from,
    since,
  };
}

/** The JSON patch for a decision: guarded by the resourceVersion read, template (or image) restored, the revision left recorded. */
export function rollbackPatch(dep: KubeObject, d: Extract<RollbackDecision, { kind: "rollback" }>): unknown[] {
  const ops: unknown[] = [{ op: "test", path: "/metadata/resourceVersion", value: dep.metadata.resourceVersion }];
  if ("template" in d.to) ops.push({ op: "replace", path: "/spec/template", value: d.to.template });
  else {
    const i = (dep.spec.template.spec.containers as { name: string }[]).findIndex((c) => c.name === (d.to as { container: string }).container);
    ops.push({ op: "replace", path: `/spec/template/spec/containers/${i}/image`, value: d.to.image });
  }
  if (!dep.metadata.annotations) ops.push({ op: "add", path: "/metadata/annotations", value: {} });
  const esc = (k: string) => k.replaceAll("~", "~0").replaceAll("/", "~1");
  ops.push({ op: "add", path: `/metadata/annotations/${esc(ROLLED_BACK_FROM)}`, value: d.from.hash });
  ops.push({ op: "add", path: `/metadata/annotations/${esc(ROLLED_BACK_TO)}`, value: "hash" in d.to ? d.to.hash : d.to.image });
  return ops;
}
