// The seed's three alert levels, decided per incident by severity and scope:
//   high-risk  a critical anomaly on a Node (or the API server: kind Cluster), or the incident reaches
//              ALERT_LEVEL_HIGH_RISK_MIN_PODS Pods, or a whole workload has no ready replica
//              -> email + Slack + MQTT at once (skips group_wait)
//   strict     an anomaly at or above ALERT_LEVEL_STRICT_SEVERITY (default critical), or the seed's
//              strict rule UnreadyReplicaRatio (unready/desired >= DIAGNOSIS_UNREADY_REPLICA_PERCENT for
//              DIAGNOSIS_UNREADY_THRESHOLD_DURATION; its message states the actual ratio)
//              -> email + Slack + MQTT, grouped
//   light      everything else (warning, info) -> Slack + MQTT, grouped
// Silenced anomalies do not count: silencing an alert must not keep escalating its incident.
import type { Incident, IncidentMember } from "../model/incident.ts";
import { SEVERITY_RANK } from "../model/anomaly.ts";
import { subjectOf } from "../correlation/topology.ts";
import type { Severity } from "../model/anomaly.ts";
import type { AlertLevel, Channel } from "../model/alert.ts";

export interface LevelRules {
  /** ALERT_LEVEL_STRICT_SEVERITY */
  strictSeverity: Severity;
  /** ALERT_LEVEL_HIGH_RISK_KINDS */
  highRiskKinds: string[];
  /** ALERT_LEVEL_HIGH_RISK_MIN_PODS */
  highRiskMinPods: number;
  /** ALERT_LEVEL_HIGH_RISK_WORKLOAD_DOWN */
  highRiskWorkloadDown: boolean;
}

export const DEFAULT_LEVEL_RULES: LevelRules = {
  strictSeverity: "critical",
  highRiskKinds: ["Node", "Cluster"],
  highRiskMinPods: 5,
  highRiskWorkloadDown: true,
};

/** Reasons that are strict whatever their severity: the seed's strict rule. */
export const STRICT_REASONS = new Set(["UnreadyReplicaRatio"]);

const CHANNELS_BY_LEVEL: Record<AlertLevel, readonly Channel[]> = {
  light: ["slack", "mqtt"],
  strict: ["email", "slack", "mqtt"],
  "high-risk": ["email", "slack", "mqtt"],
};

/** A fresh array (callers may sort it): email first, so the slowest channel starts first. */
export function channelsFor(level: AlertLevel): Channel[] {
  return [...CHANNELS_BY_LEVEL[level]];
}

/** High-risk skips group_wait (and jumps the per-channel queues). */
export const isImmediate = (level: AlertLevel): boolean => level === "high-risk";

export interface LevelDecision {
  level: AlertLevel;
  /** Why, for logs and tests: "critical NodeNotReady on Node pi-1", "6 Pods", ... */
  because: string;
}

/** `considered`: the incident's members that are not silenced (inhibited ones still count). */
export function decideLevel(incident: Incident, considered: readonly IncidentMember[], rules: LevelRules): LevelDecision {
  if (considered.length === 0) return { level: "light", because: "nothing unsilenced" };
  const highKinds = new Set(rules.highRiskKinds.map((k) => k.toLowerCase()));
  for (const m of considered) {
    const kind = subjectOf(m.anomaly).kind;
    if (m.anomaly.severity === "critical" && highKinds.has(kind.toLowerCase())) {
      return { level: "high-risk", because: `critical ${m.anomaly.reason} on ${kind} ${m.anomaly.name}` };
    }
  }
  const pods = new Set(considered.filter((m) => subjectOf(m.anomaly).kind === "Pod").map((m) => `${m.anomaly.namespace}/${m.anomaly.name}`));
  if (pods.size >= rules.highRiskMinPods) return { level: "high-risk", because: `${pods.size} Pods affected` };
  if (rules.highRiskWorkloadDown && incident.scope.workloadsDown.length > 0) {
    return { level: "high-risk", because: `${incident.scope.workloadsDown.join(", ")} has no ready replica` };
  }
  for (const m of considered) {
    if (STRICT_REASONS.has(m.anomaly.reason)) return { level: "strict", because: `${m.anomaly.reason}: ${m.anomaly.message}` };
    if (SEVERITY_RANK[m.anomaly.severity] >= SEVERITY_RANK[rules.strictSeverity]) {
      return { level: "strict", because: `${m.anomaly.severity} ${m.anomaly.reason} on ${m.anomaly.kind} ${m.anomaly.name}` };
    }
  }
  return { level: "light", because: "warning/info only" };
}
