// What the decision needs to know about nodes and pods, read from the objects alone (pure).
import type { KubeObject } from "../kube/types.ts";
import { HEALING_LABEL } from "./annotation.ts";

const CONTROL_PLANE_LABELS = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

interface Condition {
  type?: string;
  status?: string;
  lastTransitionTime?: string;
}

function readyCondition(node: KubeObject): Condition | undefined {
  const conds = node.status?.conditions;
  return Array.isArray(conds) ? (conds as Condition[]).find((c) => c?.type === "Ready") : undefined;
}

/** Ready=True. A node without a Ready condition is not Ready (the node controller sets Unknown). */
export const isReady = (node: KubeObject): boolean => readyCondition(node)?.status === "True";

/** When the Ready condition last changed (ms), or undefined when it is missing or unreadable. */
export function readySince(node: KubeObject): number | undefined {
  const t = Date.parse(readyCondition(node)?.lastTransitionTime ?? "");
  return Number.isFinite(t) ? t : undefined;
}

/** The Ready condition's lastTransitionTime as written (the episode a remediation is named after). */
export const readyTransition = (node: KubeObject): string => readyCondition(node)?.lastTransitionTime ?? "";

export const isUnschedulable = (node: KubeObject): boolean => node.spec?.unschedulable === true;
export const isControlPlane = (node: KubeObject): boolean => CONTROL_PLANE_LABELS.some((l) => node.metadata.labels?.[l] !== undefined);
export const isExcluded = (node: KubeObject): boolean => node.metadata.labels?.[HEALING_LABEL] === "disabled";

export const podNode = (pod: KubeObject): string | undefined => pod.spec?.nodeName;
export const isTerminating = (pod: KubeObject): boolean => Boolean(pod.metadata.deletionTimestamp);
const controllerOf = (pod: KubeObject) => pod.metadata.ownerReferences?.find((r) => r.controller);
export const isDaemonSetPod = (pod: KubeObject): boolean => controllerOf(pod)?.kind === "DaemonSet";
export const isMirrorPod = (pod: KubeObject): boolean => pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined;
export const isManaged = (pod: KubeObject): boolean => controllerOf(pod) !== undefined;
export const isFinished = (pod: KubeObject): boolean => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

/**
 * Pods the drain and the release concern, as `kubectl drain` picks them: DaemonSet pods (their
 * controller ignores unschedulable) and mirror pods (the kubelet owns them) are never touched;
 * pods without a controller only when allowed, since nothing would recreate them.
 */
export function movablePods(pods: readonly KubeObject[], node: string, drainUnmanaged: boolean): KubeObject[] {
  return pods.filter((p) => podNode(p) === node && !isDaemonSetPod(p) && !isMirrorPod(p) && !isFinished(p) && (drainUnmanaged || isManaged(p)));
}

/** Pods on the node that no controller recreates and we may not touch (reported, never evicted). */
export function unmanagedPods(pods: readonly KubeObject[], node: string): KubeObject[] {
  return pods.filter((p) => podNode(p) === node && !isManaged(p) && !isMirrorPod(p) && !isFinished(p));
}

/** Parses a server /version minor ("28", "28+") → true when the out-of-service taint is supported (≥ 1.28). */
export function supportsOutOfService(version: { major?: string; minor?: string } | undefined): boolean {
  const major = Number.parseInt(version?.major ?? "", 10);
  const minor = Number.parseInt(version?.minor ?? "", 10);
  if (!Number.isFinite(major) || !Number.isFinite(minor)) return false;
  return major > 1 || (major === 1 && minor >= 28);
}
