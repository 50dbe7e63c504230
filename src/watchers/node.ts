// Node rules: NotReady, resource pressure, network, readiness flapping, cordon.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, Severity, WatcherPlugin } from "./types.ts";
import { activeSince, anomalyFor, describeCondition, findCondition, formatAge, lasted, parseTime, ref, withinWindow } from "./util.ts";

const KIND = "Node";

/** Conditions that are bad when True, with what to check. */
const PRESSURE: { type: string; severity: Severity; hint: string }[] = [
  { type: "MemoryPressure", severity: "warning", hint: "The kubelet will evict Pods; check memory use on the node and Pod memory requests/limits." },
  {
    type: "DiskPressure",
    severity: "warning",
    hint: "The kubelet will evict Pods and garbage-collect images; free disk space (images, logs) — SD cards fill quickly.",
  },
  { type: "PIDPressure", severity: "warning", hint: "Too many processes on the node; look for a Pod forking without bound." },
  {
    type: "NetworkUnavailable",
    severity: "critical",
    hint: "The node's Pod network is not configured; check the CNI (flannel on K3s) on this node.",
  },
];

interface Transition {
  at: number;
}

function notReady(node: KubeObject, ctx: RuleContext, cordoned: boolean): Anomaly[] {
  const ready = findCondition(node, "Ready");
  const since = parseTime(ready?.lastTransitionTime);
  if (!ready || ready.status === "True" || since === undefined) return [];
  if (!lasted(ctx, since, ctx.settings.nodeNotReadyForMs)) return [];
  const age = ctx.now - since;
  const state = ready.status === "Unknown" ? "not reporting (Ready=Unknown)" : "NotReady";
  const cordon = cordoned ? " The node is also cordoned (unschedulable)." : "";
  return [
    anomalyFor(node, KIND, {
      reason: "NodeNotReady",
      severity: "critical",
      category: "Node",
      node: node.metadata.name,
      since,
      message: `Node ${node.metadata.name} has been ${state} for ${formatAge(age)}${describeCondition(ready)}.${cordon} Check power, network and the k3s/kubelet service on the node.`,
    }),
  ];
}

function pressure(node: KubeObject): Anomaly[] {
  const out: Anomaly[] = [];
  for (const { type, severity, hint } of PRESSURE) {
    const c = findCondition(node, type);
    const since = parseTime(c?.lastTransitionTime);
    if (c?.status !== "True" || since === undefined) continue;
    out.push(
      anomalyFor(node, KIND, {
        reason: type,
        severity,
        category: "Node",
        node: node.metadata.name,
        since,
        message: `Node ${node.metadata.name} reports ${type}${describeCondition(c)}. ${hint}`,
      }),
    );
  }
  return out;
}

/**
 * Records each Ready change (status or lastTransitionTime differs from last seen) at the time the
 * node itself states, so transitions seen late or after a restart still land at the right time.
 */
function readinessFlapping(node: KubeObject, ctx: RuleContext): Anomaly[] {
  const windowMs = ctx.settings.nodeFlapWindowMs;
  const threshold = ctx.settings.nodeFlapCount;
  const ready = findCondition(node, "Ready");
  let transitions = (ctx.memo.readyTransitions as Transition[] | undefined) ?? [];
  if (ready) {
    const signature = `${ready.status}@${ready.lastTransitionTime ?? ""}`;
    // The first sighting is the node's current state, not a change: counting it would make a
    // node that went down and up once (two changes) look like it flapped.
    if (ctx.memo.readySignature !== undefined && ctx.memo.readySignature !== signature) {
      transitions = [...transitions, { at: parseTime(ready.lastTransitionTime) ?? ctx.now }];
    }
    ctx.memo.readySignature = signature;
  }
  transitions = transitions.filter((t) => withinWindow(ctx, t.at, windowMs)).slice(-64);
  ctx.memo.readyTransitions = transitions;
  const firing = transitions.length >= threshold;
  const since = activeSince(ctx.memo, "flapSince", firing, ctx.now, transitions[0]?.at);
  if (!firing) return [];
  return [
    anomalyFor(node, KIND, {
      reason: "NodeReadyFlapping",
      severity: "warning",
      category: "Node",
      node: node.metadata.name,
      since: since!,
      message: `Node ${node.metadata.name} changed Ready state ${transitions.length} times in the last ${formatAge(windowMs)} (threshold ${threshold}). Check its network link, power supply (under-voltage on a Pi) and kubelet restarts.`,
    }),
  ];
}

function cordonedNote(node: KubeObject, ctx: RuleContext): Anomaly[] {
  const taint = (node.spec?.taints as { key: string; timeAdded?: string }[] | undefined)?.find((t) => t.key === "node.kubernetes.io/unschedulable");
  const since = activeSince(ctx.memo, "cordonedSince", true, ctx.now, parseTime(taint?.timeAdded));
  return [
    anomalyFor(node, KIND, {
      reason: "Cordoned",
      severity: "info",
      category: "Node",
      node: node.metadata.name,
      since: since!,
      message: `Node ${node.metadata.name} is cordoned (unschedulable): no new Pods will be placed on it. Run kubectl uncordon ${node.metadata.name} when maintenance is over.`,
    }),
  ];
}

export function evaluateNode(node: KubeObject, ctx: RuleContext): Anomaly[] {
  const cordoned = node.spec?.unschedulable === true;
  const down = notReady(node, ctx, cordoned);
  // A cordoned node that is down yields one anomaly (NodeNotReady, which mentions the cordon).
  const cordon = cordoned && down.length === 0 ? cordonedNote(node, ctx) : [];
  if (!cordoned) delete ctx.memo.cordonedSince;
  return [...down, ...pressure(node), ...readinessFlapping(node, ctx), ...cordon];
}

export const nodePlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("", "v1", "nodes", KIND, false)],
  evaluate: evaluateNode,
  reportsTimeDependence: true,
};
