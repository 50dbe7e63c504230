// The contract between a watcher plugin (one file per kind) and the rest of the controller.
// Rules are pure: (object, context with an injected clock and per-object memory) -> anomalies.
import type { CacheView } from "../kube/objects.ts";
import type { KubeObject, ResourceRef } from "../kube/types.ts";
import type { Anomaly } from "../model/anomaly.ts";
import type { RuleSettings } from "./settings.ts";

// Re-exported for the plugins: the domain types live in src/model/, the cache view in src/kube/objects.ts.
export { anomalyKey, type Anomaly, type Severity } from "../model/anomaly.ts";
export type { CacheView };

export interface RuleContext {
  /** Injected clock, ms since epoch. */
  now: number;
  /** The rules' thresholds and windows, parsed once from the configuration at start-up. */
  settings: RuleSettings;
  cache: CacheView;
  /**
   * Per-object memory owned by this kind's rules, kept between evaluations of the same object
   * (restart samples, readiness transitions, first time a condition was observed). Deleted with the object.
   */
  memo: Record<string, unknown>;
  /**
   * Time dependence: the rule's answer for this object may change at `at` (ms since epoch) with no
   * new event — a duration threshold is reached, a window slides past a sample. The controller
   * re-evaluates the object on the first periodic tick at or after the earliest time reported
   * (`at` <= now: the next tick). Rules report it on every evaluation it still applies to; an object
   * whose rules report nothing is re-evaluated only when it, or an object it `affects`, changes.
   * Optional: one-shot callers (scan, tests) need not collect it.
   */
  recheckAt?(at: number): void;
  /**
   * When the log already says this anomaly is firing: the eventTime it was logged with (ms), from this
   * node's state or the previous leader's shared state. Rules whose start is their first observation
   * use it as evidence, so a new leader (or a restarted controller) continues the same anomaly
   * instead of resolving it and firing it again later with a new eventTime. Optional (scan, tests).
   */
  loggedSince?(a: Pick<Anomaly, "kind" | "namespace" | "name" | "reason">): number | undefined;
  /**
   * A single evaluation with no history (`scan`): there is no "first observation" to wait from, so a
   * state no timestamp dates is judged from the writes the API recorded (managedFields times), and
   * lacking any, reported as firing with its duration unknown instead of hidden.
   */
  oneShot?: boolean;
}

export interface WatcherPlugin {
  /** Kind name as in the API ("Pod"). */
  kind: string;
  /** Resources to try in order; the first one the API serves is watched (EndpointSlice before Endpoints). */
  resources: ResourceRef[];
  /** Every anomaly currently firing for this object. Anything it stops returning is resolved. */
  evaluate(obj: KubeObject, ctx: RuleContext): Anomaly[];
  /**
   * Objects of other kinds whose evaluation reads this object (an EndpointSlice change re-evaluates
   * its Service). The runtime re-evaluates them after this object changes.
   */
  affects?(obj: KubeObject): { kind: string; namespace: string; name: string }[];
  /**
   * True when the rules call `ctx.recheckAt` for everything that can change with time alone. Objects
   * of a plugin without it are re-evaluated on every periodic tick (always correct, costs a pass
   * over its whole cache every NEURO_EVALUATE_INTERVAL).
   */
  reportsTimeDependence?: boolean;
}
