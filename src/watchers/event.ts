// Event rules: recent Warning events with the seed's reasons become anomalies about the object the
// event is about (involvedObject). Probe failures (Unhealthy) must also be frequent enough.
import type { KubeObject } from "../kube/types.ts";
import type { Anomaly, RuleContext, Severity, WatcherPlugin } from "./types.ts";
import { activeSince, anomalyFor, formatAge, increaseWithin, parseTime, recordSample, ref, rfc3339, withinWindow } from "./util.ts";

const KIND = "Event";

/** The seed's Warning reasons, with what to check. */
export const WARNING_REASONS: Record<string, { severity: Severity; hint: string }> = {
  BackOff: { severity: "warning", hint: "A container keeps failing to start; check its logs (kubectl logs --previous)." },
  FailedCreatePodSandBox: {
    severity: "warning",
    hint: "The runtime could not set up the Pod's sandbox/network; check the CNI and containerd on the node.",
  },
  Unhealthy: { severity: "warning", hint: "Probes are failing; check the probe settings and the application's health endpoint." },
  FailedScheduling: { severity: "warning", hint: "Check resource requests, node selectors, taints and whether nodes are cordoned or NotReady." },
  FailedMount: { severity: "warning", hint: "Check that the volume's ConfigMap/Secret/PVC exists and the storage backend is reachable." },
  FailedAttachVolume: { severity: "warning", hint: "Check the volume's attachment state and the CSI driver." },
  FailedMapVolume: { severity: "warning", hint: "Check the block volume and the CSI driver." },
  FailedKillPod: { severity: "warning", hint: "The kubelet could not stop the Pod; check the container runtime on the node." },
  ErrImagePull: { severity: "warning", hint: "Check the image name and tag, registry reachability and imagePullSecrets." },
  ImagePullBackOff: { severity: "warning", hint: "Check the image name and tag, registry reachability and imagePullSecrets." },
  Failed: { severity: "warning", hint: "Check the Pod's events and container statuses (kubectl describe)." },
};

export interface Occurrences {
  count: number;
  first: number;
  last: number;
}

/** Count and first/last occurrence, from the core/v1 fields or the newer series fields. */
export function occurrences(ev: KubeObject): Occurrences | undefined {
  const last =
    parseTime(ev.series?.lastObservedTime) ??
    parseTime(ev.lastTimestamp) ??
    parseTime(ev.eventTime) ??
    parseTime(ev.firstTimestamp) ??
    parseTime(ev.metadata.creationTimestamp);
  if (last === undefined) return undefined;
  const first = parseTime(ev.firstTimestamp) ?? parseTime(ev.eventTime) ?? last;
  const count: number = ev.series?.count ?? ev.count ?? 1;
  return { count: Math.max(1, count), first: Math.min(first, last), last };
}

/**
 * Occurrences within the window ending at the last one. Events are deduplicated by the API into one
 * object whose counter is bumped, so the memo keeps (time, count) samples to see the bumps.
 */
export function occurrencesInWindow(o: Occurrences, ctx: RuleContext, windowMs: number): { n: number; since: number } {
  const start = o.last - windowMs;
  const list = recordSample(ctx.memo, "counts", o.last, o.count, windowMs);
  if (o.first >= start) return { n: o.count, since: o.first }; // every occurrence lies inside the window
  // Occurrence #value happened at sample.at, so everything from the first in-window sample on is inside.
  const firstIn = list.find((s) => s.at > start) ?? { at: o.last, value: o.count };
  const seen = o.count - firstIn.value + 1;
  if (increaseWithin(list, o.last, windowMs, o.count) !== undefined) return { n: seen, since: firstIn.at };
  // No sample before the window (first sighting, e.g. after a restart): estimate from the average rate.
  const estimate = Math.floor(((o.count - 1) / (o.last - o.first)) * windowMs) + 1;
  return estimate > seen ? { n: estimate, since: start } : { n: seen, since: firstIn.at };
}

function involvedNode(ev: KubeObject, ctx: RuleContext): string {
  const obj = ev.involvedObject ?? {};
  if (obj.kind === "Node") return obj.name ?? "";
  if (ev.source?.host) return ev.source.host;
  if (obj.kind === "Pod") return ctx.cache.get("Pod", obj.namespace ?? "", obj.name ?? "")?.spec?.nodeName ?? "";
  return "";
}

export function evaluateEvent(ev: KubeObject, ctx: RuleContext): Anomaly[] {
  const rule = WARNING_REASONS[ev.reason];
  if (ev.type !== "Warning" || !rule) return [];
  const o = occurrences(ev);
  // Old events say nothing about now; ignoring them lets the anomaly resolve as time passes.
  if (!o || !withinWindow(ctx, o.last, ctx.settings.eventMaxAgeMs)) return [];
  let since = o.first;
  let frequency = "";
  if (ev.reason === "Unhealthy") {
    const windowMs = ctx.settings.eventUnhealthyWindowMs;
    const threshold = ctx.settings.eventUnhealthyCount;
    const burst = occurrencesInWindow(o, ctx, windowMs);
    const firing = burst.n >= threshold;
    const start = activeSince(ctx.memo, "unhealthySince", firing, ctx.now, burst.since);
    if (!firing) return [];
    since = start!;
    frequency = ` ${burst.n} failures within ${formatAge(windowMs)} (threshold ${threshold}).`;
  }
  const target = ev.involvedObject ?? {};
  const kind: string = target.kind ?? "";
  const namespace: string = target.namespace ?? ev.metadata.namespace ?? "";
  const name: string = target.name ?? "";
  const times =
    o.count > 1 ? `${o.count} times since ${rfc3339(o.first)}, last ${formatAge(ctx.now - o.last)} ago` : `${formatAge(ctx.now - o.last)} ago`;
  return [
    anomalyFor(ev, KIND, {
      kind,
      namespace,
      name,
      node: involvedNode(ev, ctx),
      reason: ev.reason,
      severity: rule.severity,
      category: "Event",
      since,
      message: `${ev.reason} on ${kind} ${namespace ? `${namespace}/` : ""}${name}: ${(ev.message ?? "").trim()} (${times}).${frequency} ${rule.hint}`,
    }),
  ];
}

export const eventPlugin: WatcherPlugin = {
  kind: KIND,
  resources: [ref("", "v1", "events", KIND)],
  evaluate: evaluateEvent,
  reportsTimeDependence: true,
};
