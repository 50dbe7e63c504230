// Helpers shared by the watcher plugins: timestamps, conditions, the anomaly builder and the small
// per-object memories (first-observed times, bounded sample series) that windowed rules need.
import { MAX_ANOMALY_MESSAGE_LENGTH, truncateText } from "../kube/bounds.ts";
import type { KubeObject, ResourceRef } from "../kube/types.ts";
import type { Anomaly, RuleContext, Severity } from "./types.ts";

// The object readers the plugins use, from their home in src/kube/objects.ts.
export { creationTime, describeCondition, findCondition, lastWriteTime, parseTime, type Condition } from "../kube/objects.ts";

// ---------- time ----------

/** RFC 3339 in UTC; whole seconds print without ".000" so equal instants always give equal strings. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** Short human duration for messages: "45s", "3m20s", "2h5m", "3d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

// ---------- time dependence (what the periodic tick must re-check) ----------

/**
 * A duration rule's threshold: true once the state that began at `since` has lasted `forMs`.
 * Until then the object is due for a re-check at the moment it matures (no event will say so).
 */
export function lasted(ctx: RuleContext, since: number, forMs: number): boolean {
  if (ctx.now - since >= forMs) return true;
  ctx.recheckAt?.(since + forMs);
  return false;
}

/**
 * A window rule: true while `at` is at most `windowMs` old. While it is, the object is due for a
 * re-check the moment `at` leaves the window (the anomaly clears with no event).
 */
export function withinWindow(ctx: RuleContext, at: number, windowMs: number): boolean {
  if (ctx.now - at > windowMs) return false;
  ctx.recheckAt?.(at + windowMs + 1);
  return true;
}

// ---------- anomalies ----------

export interface AnomalyFields {
  reason: string;
  severity: Severity;
  category: string;
  message: string;
  /** When the condition began (ms). */
  since: number;
  node?: string;
  /** Defaults to the object's own kind/namespace/name. */
  kind?: string;
  namespace?: string;
  name?: string;
}

/**
 * A field of an object as text. Only metadata is checked at the boundary; a kind-specific field the
 * API types as a string (spec.nodeName, involvedObject.name) may arrive as a number or an object from
 * a broken server, and an anomaly's fields are strings everywhere downstream (log, state, channels).
 */
export function asText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined || v === null) return "";
  if (typeof v === "object") {
    try {
      return JSON.stringify(v) ?? "";
    } catch {
      return String(v);
    }
  }
  return String(v);
}

/** Builds an anomaly about `obj`; `kind` is the plugin's kind because list items carry no `kind`. */
export function anomalyFor(obj: KubeObject, kind: string, f: AnomalyFields): Anomaly {
  return {
    kind: asText(f.kind ?? kind),
    namespace: asText(f.namespace ?? obj.metadata.namespace),
    name: asText(f.name ?? obj.metadata.name),
    node: asText(f.node),
    reason: asText(f.reason),
    severity: f.severity,
    category: f.category,
    message: truncateText(asText(f.message), MAX_ANOMALY_MESSAGE_LENGTH),
    eventTime: rfc3339(f.since),
  };
}

export function ref(group: string, version: string, plural: string, kind: string, namespaced = true): ResourceRef {
  return { group, version, plural, kind, namespaced };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

// ---------- memo helpers ----------

/**
 * When a state with no timestamp of its own became true, remembered in memo[key].
 * `initial` (an object timestamp, when one bounds the start) is used on first observation,
 * else `now`. Clearing the state forgets it, so the next occurrence starts a new duration.
 * `logged` (RuleContext.loggedSince: the log already reports this state as firing since then) is
 * evidence of an earlier start and moves the remembered start back to it, also after first observation.
 */
export function activeSince(
  memo: RuleContext["memo"],
  key: string,
  active: boolean,
  now: number,
  initial?: number,
  logged?: number,
): number | undefined {
  if (!active) {
    delete memo[key];
    return undefined;
  }
  const prior = memo[key];
  let start = typeof prior === "number" ? prior : initial !== undefined && initial <= now ? initial : now;
  if (logged !== undefined && logged <= now && logged < start) start = logged;
  memo[key] = start;
  return start;
}

/**
 * " for 5m", or for a state scan cannot date: " for at least 5m (…)" from the last recorded write,
 * else " (duration unknown: …)". Such a state is reported, never hidden (scan has no first observation).
 */
export function undatedLasting(now: number, undated: boolean, since: number, bound: number | undefined, what: string): string {
  if (!undated) return ` for ${formatAge(now - since)}`;
  if (bound !== undefined && now - bound >= 1000) {
    return ` for at least ${formatAge(now - bound)} (duration unknown before that: only the ${what}' last recorded write dates it)`;
  }
  return ` (duration unknown: nothing on the ${what} records since when)`;
}

/** RuleContext.loggedSince for an anomaly `reason` about `obj` (reported as `kind`, default the object's). */
export function loggedStart(ctx: RuleContext, obj: KubeObject, kind: string, reason: string): number | undefined {
  return ctx.loggedSince?.({ kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name, reason });
}

export interface Sample {
  at: number;
  value: number;
}

export function samples(memo: RuleContext["memo"], key: string): Sample[] {
  const s = memo[key];
  return Array.isArray(s) ? (s as Sample[]) : [];
}

/**
 * Appends (at, value) when the value changed, then keeps only what a window ending at `at` needs:
 * every sample inside it plus the newest one before it (the baseline). A value that went down
 * (a counter reset) restarts the series. At most `max` samples are kept, so memory stays bounded.
 */
export function recordSample(memo: RuleContext["memo"], key: string, at: number, value: number, windowMs: number, max = 32): Sample[] {
  let list = samples(memo, key);
  const last = list[list.length - 1];
  if (last && value < last.value) list = [];
  if (!last || value !== last.value || list.length === 0) list = [...list, { at, value }];
  const start = at - windowMs;
  let firstKept = 0;
  for (let i = 0; i < list.length; i++) if (list[i]!.at <= start) firstKept = i;
  list = list.slice(firstKept);
  if (list.length > max) list = list.slice(list.length - max);
  memo[key] = list;
  return list;
}

/**
 * How much the value rose within (end - window, end], measured against the newest sample at or before
 * the window start. Undefined when the series does not reach back that far (the caller decides how
 * to bound it from the object's own timestamps).
 */
export function increaseWithin(list: readonly Sample[], end: number, windowMs: number, current: number): number | undefined {
  let baseline: Sample | undefined;
  for (const s of list) if (s.at <= end - windowMs) baseline = s;
  return baseline ? current - baseline.value : undefined;
}

/** Cause-and-fix sentence per reason; the same hint is used wherever the reason appears. */
export const HINTS: Record<string, string> = {
  CrashLoopBackOff: "Check the container's logs (kubectl logs --previous) and its command, config and dependencies.",
  CreateContainerError: "Check the container spec (command, volume mounts, security context).",
  CreateContainerConfigError: "Check that the referenced ConfigMaps, Secrets and keys exist.",
  RunContainerError: "Check the container's command/entrypoint and the runtime's logs on the node.",
  ContainerCannotRun: "Check the container's command/entrypoint and that the binary exists for this architecture (arm64 on a Pi).",
  ImagePullBackOff: "Check the image name and tag, registry reachability and imagePullSecrets.",
  ErrImagePull: "Check the image name and tag, registry reachability and imagePullSecrets.",
  InvalidImageName: "Fix the image reference in the Pod spec.",
  OOMKilled: "Check memory limits and the application's memory use.",
  Error: "Check the container's logs (kubectl logs --previous).",
  StartError: "Check the container's command/entrypoint and mounts.",
};
