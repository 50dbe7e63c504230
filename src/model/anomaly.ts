// The domain's first fact: one anomaly on one object. Produced by the rules (src/watchers/), written to
// cleaned_events.log (src/diagnosis/), correlated into incidents (src/correlation/), alerted on
// (src/alerting/). No imports: every layer may depend on this file, it depends on none.

export type Severity = "info" | "warning" | "critical";

/** Ordering of severities, for "the worst of" and for inhibition (lower never inhibits higher). */
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** One anomaly on one object; the fields of a cleaned_events.log line (minus `time`). */
export interface Anomaly {
  kind: string;
  namespace: string;
  name: string;
  node: string;
  reason: string;
  severity: Severity;
  /** Seed categories: Condition, Warning, Endpoint, Event, Node, Restart, ... */
  category: string;
  /** English, clear and actionable. */
  message: string;
  /** RFC 3339: when the condition began, judged from the object's own timestamps. */
  eventTime: string;
}

/** The identity of an anomaly: kind/namespace/name/reason. */
export function anomalyKey(a: Pick<Anomaly, "kind" | "namespace" | "name" | "reason">): string {
  return `${a.kind}/${a.namespace}/${a.name}/${a.reason}`;
}
