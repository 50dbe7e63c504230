// Pod rules: stuck container states, recent crashes, restart rate, readiness, scheduling, eviction.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, WatcherPlugin } from "./types.ts";
import {
  HINTS,
  activeSince,
  anomalyFor,
  creationTime,
  describeCondition,
  findCondition,
  formatAge,
  increaseWithin,
  lasted,
  parseTime,
  plural,
  recordSample,
  ref,
  withinWindow,
} from "./util.ts";

const KIND = "Pod";

/** Waiting reasons that mean the container will not become healthy on its own. */
export const STUCK_WAITING_REASONS = [
  "CrashLoopBackOff",
  "CreateContainerError",
  "CreateContainerConfigError",
  "RunContainerError",
  "ContainerCannotRun",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
] as const;

/** Terminated reasons worth reporting, mapped to our anomaly reason ("Error" alone is too vague). */
const CRASH_REASONS: Record<string, string> = { OOMKilled: "OOMKilled", Error: "ContainerError", StartError: "StartError" };

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}
interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; exitCode?: number; finishedAt?: string; startedAt?: string };
}
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface LabeledStatus {
  status: ContainerStatus;
  /** "container app" / "init container migrate": how messages name it. */
  label: string;
  init: boolean;
}

function containerStatuses(pod: KubeObject): LabeledStatus[] {
  const init: ContainerStatus[] = pod.status?.initContainerStatuses ?? [];
  const main: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  return [
    ...init.map((status) => ({ status, label: `init container ${status.name}`, init: true })),
    ...main.map((status) => ({ status, label: `container ${status.name}`, init: false })),
  ];
}

/** When the pod's containers stopped being ready: the best object timestamp for a stuck container state. */
function notReadySince(pod: KubeObject, init: boolean): number | undefined {
  for (const type of init ? ["Initialized", "ContainersReady", "Ready"] : ["ContainersReady", "Ready"]) {
    const c = findCondition(pod, type);
    if (c?.status === "False") return parseTime(c.lastTransitionTime);
  }
  return undefined;
}

function stuckWaiting(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  const byReason = new Map<string, LabeledStatus[]>();
  for (const s of containerStatuses(pod)) {
    const reason = s.status.state?.waiting?.reason;
    if (reason && (STUCK_WAITING_REASONS as readonly string[]).includes(reason)) {
      byReason.set(reason, [...(byReason.get(reason) ?? []), s]);
    }
  }
  const out: Anomaly[] = [];
  for (const [reason, list] of byReason) {
    // No timestamp on a waiting state: the containers-not-ready transition bounds it; memo otherwise.
    const since = activeSince(
      ctx.memo,
      `waiting:${reason}`,
      true,
      ctx.now,
      notReadySince(
        pod,
        list.some((s) => s.init),
      ),
    )!;
    const what = list
      .map(({ status, label }) => {
        const restarts = status.restartCount ? ` (${plural(status.restartCount, "restart")})` : "";
        const detail = status.state?.waiting?.message ? `: ${status.state.waiting.message}` : "";
        return `${capitalize(label)} is in ${reason}${restarts}${detail}`;
      })
      .join("; ");
    out.push(
      anomalyFor(pod, KIND, {
        reason,
        severity: "warning",
        category: "Condition",
        node,
        since,
        message: `${what.replace(/\.$/, "")}. ${HINTS[reason] ?? ""}`.trim(),
      }),
    );
  }
  for (const reason of STUCK_WAITING_REASONS) if (!byReason.has(reason)) delete ctx.memo[`waiting:${reason}`];
  return out;
}

/** The Pod's controller is a Job this controller watches (in the cache): its JobFailed rule speaks for the Pod's end. */
function ownedByWatchedJob(pod: KubeObject, ctx: RuleContext): boolean {
  const job = pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Job");
  return !!job && ctx.cache.get("Job", pod.metadata.namespace ?? "", job.name) !== undefined;
}

/**
 * OOMKilled / Error / StartError in the current or last terminated state, while it is recent — or,
 * for a Pod that has failed for good (phase Failed: nothing will restart it), for as long as the Pod
 * exists, unless a watched Job owns it (JobFailed reports that).
 */
function recentCrashes(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  const windowMs = ctx.settings.podRestartWindowMs;
  const terminal = pod.status?.phase === "Failed" && pod.status?.reason !== "Evicted" && !ownedByWatchedJob(pod, ctx);
  const latest = new Map<string, { at: number; text: string }>();
  for (const { status, label } of containerStatuses(pod)) {
    for (const t of [status.state?.terminated, status.lastState?.terminated]) {
      const reason = t?.reason && CRASH_REASONS[t.reason];
      const at = parseTime(t?.finishedAt);
      const final = terminal && t === status.state?.terminated;
      if (!reason || at === undefined || (!final && !withinWindow(ctx, at, windowMs))) continue;
      if ((latest.get(reason)?.at ?? -Infinity) >= at) continue;
      const code = t!.exitCode !== undefined ? ` (exit code ${t!.exitCode})` : "";
      const restarts = status.restartCount ? `; ${plural(status.restartCount, "restart")} so far` : "";
      const end = final ? "; the Pod has failed (phase Failed) and nothing will restart it" : "";
      latest.set(reason, {
        at,
        text: `${capitalize(label)} terminated with ${t!.reason}${code} ${formatAge(ctx.now - at)} ago${restarts}${end}. ${HINTS[t!.reason!] ?? ""}`.trim(),
      });
    }
  }
  return [...latest].map(([reason, { at, text }]) =>
    anomalyFor(pod, KIND, { reason, severity: "warning", category: "Restart", node, since: at, message: text }),
  );
}

function lastExit(pod: KubeObject): { at: number; text: string } | undefined {
  let best: { at: number; text: string } | undefined;
  for (const { status, label } of containerStatuses(pod)) {
    const t = status.lastState?.terminated;
    const at = parseTime(t?.finishedAt);
    if (at !== undefined && (!best || at > best.at)) best = { at, text: `${label} ${t!.reason ?? "exited"}, exit code ${t!.exitCode ?? "?"}` };
  }
  return best;
}

/**
 * The earliest the Pod's containers can have started: creationTimestamp, or the kubelet's
 * status.startTime when that is older (a Pod object re-created from a capture keeps its old
 * status but gets a new creationTimestamp).
 */
function podStart(pod: KubeObject): number | undefined {
  const times = [creationTime(pod), parseTime(pod.status?.startTime)].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** ≥ RULE_POD_RESTART_COUNT restarts within RULE_POD_RESTART_WINDOW, from restartCount samples. */
function restartRate(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  const windowMs = ctx.settings.podRestartWindowMs;
  const threshold = ctx.settings.podRestartCount;
  const total = containerStatuses(pod).reduce((n, s) => n + (s.status.restartCount ?? 0), 0);
  const list = recordSample(ctx.memo, "restarts", ctx.now, total, windowMs);
  let inWindow = increaseWithin(list, ctx.now, windowMs, total);
  if (inWindow === undefined) {
    // The series is younger than the window (always so in scan's single pass). A pod that started
    // inside the window did all its restarts inside it; otherwise count only what we saw (a lower
    // bound, never a false alarm: 0 in scan).
    const started = podStart(pod);
    inWindow = started !== undefined && ctx.now - started <= windowMs ? total : total - list[0]!.value;
  }
  const firing = inWindow >= threshold;
  const exit = lastExit(pod);
  const since = activeSince(ctx.memo, "restartRateSince", firing, ctx.now, exit?.at);
  if (!firing) return [];
  // The count inside the window only falls as time passes (its baseline moves forward): time alone
  // can end a firing restart rate, never start one. Re-checked every tick while it fires.
  ctx.recheckAt?.(ctx.now);
  const last = exit ? `; last exit: ${exit.text}` : "";
  return [
    anomalyFor(pod, KIND, {
      reason: "HighRestartRate",
      severity: "warning",
      category: "Restart",
      node,
      since: since!,
      message: `Pod restarted ${inWindow} times in the last ${formatAge(windowMs)} (threshold ${threshold}${last}). Check the container logs (kubectl logs --previous), probes and memory limits.`,
    }),
  ];
}

function notReady(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  if (pod.status?.phase !== "Running") return []; // Succeeded pods are not ready by design
  const ready = findCondition(pod, "Ready");
  const since = parseTime(ready?.lastTransitionTime);
  if (ready?.status !== "False" || since === undefined) return [];
  if (!lasted(ctx, since, ctx.settings.podNotReadyForMs)) return [];
  const age = ctx.now - since;
  const unreadyStatuses = containerStatuses(pod).filter((s) => !s.init && s.status.ready === false);
  const unready = unreadyStatuses.map((s) => s.status.name);
  const which = unready.length ? ` Unready containers: ${unready.join(", ")}.` : "";
  // The most useful clue when there is one: the container's last run ended out of memory.
  const oom = unreadyStatuses
    .map((s) => ({ name: s.status.name, t: s.status.lastState?.terminated, restarts: s.status.restartCount ?? 0 }))
    .filter(({ t }) => t?.reason === "OOMKilled" || (t?.exitCode === 137 && t?.reason !== "Completed"))
    .map(({ name, t, restarts }) => {
      const at = parseTime(t!.finishedAt);
      const when = at !== undefined ? ` ${formatAge(ctx.now - at)} ago` : "";
      const what = t!.reason === "OOMKilled" ? "was OOMKilled" : `was killed (exit code 137, ${t!.reason ?? "SIGKILL"}; often the OOM killer)`;
      const code = t!.reason === "OOMKilled" && t!.exitCode !== undefined ? ` (exit code ${t!.exitCode})` : "";
      return ` Container ${name} ${what}${code}${when}${restarts ? `, ${plural(restarts, "restart")} so far` : ""}.`;
    })
    .join("");
  const advice = oom
    ? " Check its memory limit against the application's memory use, then readiness probes."
    : " Check readiness probes and the containers' logs.";
  return [
    anomalyFor(pod, KIND, {
      reason: "NotReady",
      severity: "warning",
      category: "Condition",
      node,
      since,
      message: `Pod has been running but not ready for ${formatAge(age)}${describeCondition(ready)}.${which}${oom}${advice}`,
    }),
  ];
}

function pendingTooLong(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  if (pod.status?.phase !== "Pending") return [];
  const scheduled = findCondition(pod, "PodScheduled");
  const unschedulable = scheduled?.status === "False" && scheduled.reason === "Unschedulable";
  const since = (unschedulable ? parseTime(scheduled.lastTransitionTime) : undefined) ?? creationTime(pod);
  if (since === undefined) return [];
  if (!lasted(ctx, since, ctx.settings.podPendingForMs)) return [];
  const age = ctx.now - since;
  const message = unschedulable
    ? `Pod cannot be scheduled for ${formatAge(age)}: ${scheduled.message ?? "no node fits"}. Check resource requests, node selectors, taints/tolerations and whether nodes are cordoned or NotReady.`
    : `Pod has been Pending for ${formatAge(age)}${node ? ` on node ${node}` : ""}. Check image pulls, volume mounts and the Pod's events (kubectl describe pod).`;
  return [
    anomalyFor(pod, KIND, {
      reason: unschedulable ? "Unschedulable" : "PendingTooLong",
      severity: "warning",
      category: "Scheduling",
      node,
      since,
      message,
    }),
  ];
}

function evicted(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  const isEvicted = pod.status?.phase === "Failed" && pod.status?.reason === "Evicted";
  // Eviction time: the DisruptionTarget condition (1.26+), else the latest container finish, else first seen.
  const disruption = parseTime(findCondition(pod, "DisruptionTarget")?.lastTransitionTime);
  const finished = containerStatuses(pod)
    .map((s) => parseTime(s.status.state?.terminated?.finishedAt))
    .filter((t): t is number => t !== undefined);
  const objectTime = disruption ?? (finished.length ? Math.max(...finished) : undefined);
  const since = activeSince(ctx.memo, "evictedSince", isEvicted, ctx.now, objectTime);
  // Evicted pods linger until garbage-collected; report the eviction, not the leftover object, for a while.
  if (since === undefined || !withinWindow(ctx, since, ctx.settings.podEvictedWindowMs)) return [];
  return [
    anomalyFor(pod, KIND, {
      reason: "Evicted",
      severity: "warning",
      category: "Node",
      node,
      since,
      message: `Pod was evicted${node ? ` from node ${node}` : ""}: ${pod.status?.message ?? "no reason given"}. Check the node's memory/disk pressure and the Pod's resource requests.`,
    }),
  ];
}

function stuckTerminating(pod: KubeObject, ctx: RuleContext, node: string): Anomaly[] {
  // deletionTimestamp is already "requested time + grace period": past it, the kubelet is late.
  const deadline = parseTime(pod.metadata.deletionTimestamp);
  if (deadline === undefined || !lasted(ctx, deadline, ctx.settings.podTerminatingForMs)) return [];
  const finalizers: string[] = (pod.metadata.finalizers as string[] | undefined) ?? [];
  const why = finalizers.length ? ` Finalizers still set: ${finalizers.join(", ")}.` : "";
  return [
    anomalyFor(pod, KIND, {
      reason: "StuckTerminating",
      severity: "warning",
      category: "Condition",
      node,
      since: deadline,
      message: `Pod is still terminating ${formatAge(ctx.now - deadline)} after its grace period ended.${why} Check that node ${node || "(none)"} and its kubelet are reachable.`,
    }),
  ];
}

export function evaluatePod(pod: KubeObject, ctx: RuleContext): Anomaly[] {
  const node: string = pod.spec?.nodeName ?? "";
  // A pod being deleted is going away on purpose: only report it if the deletion itself is stuck.
  if (pod.metadata.deletionTimestamp) return stuckTerminating(pod, ctx, node);
  return [
    ...stuckWaiting(pod, ctx, node),
    ...recentCrashes(pod, ctx, node),
    ...restartRate(pod, ctx, node),
    ...notReady(pod, ctx, node),
    ...pendingTooLong(pod, ctx, node),
    ...evicted(pod, ctx, node),
  ];
}

export const podPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("", "v1", "pods", KIND)],
  evaluate: evaluatePod,
  reportsTimeDependence: true,
};
