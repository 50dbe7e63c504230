// The alerting contracts. AlertGroupData is an external contract (docs/architecture.md): the one JSON format
// every channel renders and MQTT publishes — keep it exactly as documented.
import type { ActionRecord } from "./action.ts";
import type { Severity } from "./anomaly.ts";
import type { LikelyTrigger } from "./incident.ts";

export type AlertLevel = "light" | "strict" | "high-risk";
export type Channel = "slack" | "email" | "mqtt";
export const CHANNELS: readonly Channel[] = ["slack", "email", "mqtt"];

/** One alert line (the seed's fields). */
export interface AlertItem {
  kind: string;
  name: string;
  namespace: string;
  node: string;
  severity: Severity;
  reason: string;
  message: string;
  /** RFC 3339: when the anomaly began (its eventTime). */
  time: string;
}

/** The seed's {title, nodeList, namespaceList, alertCount, alerts} plus clusterId, level, status, incidentId, fingerprint. */
export interface AlertGroupData {
  title: string;
  nodeList: string[];
  namespaceList: string[];
  alertCount: number;
  /** Root cause first; inhibited and silenced alerts are left out (the title counts them). */
  alerts: AlertItem[];
  clusterId: string;
  level: AlertLevel;
  status: "firing" | "resolved";
  incidentId: string;
  /** Fingerprint of this notification's content: incident id, status and the alerts' fingerprints. */
  fingerprint: string;
  /** Optional: the change that most likely triggered the incident (docs/changes.md). */
  trigger?: LikelyTrigger;
  /** Optional: set when this notification announces an action of ours instead of an incident (docs/actions.md). */
  action?: ActionRecord;
}

/** What the pipeline hands to the outbox; persisted before it is sent. */
export interface Notification {
  /** Unique and deterministic: "<incidentId>:<channel>:<sequence>". */
  id: string;
  channel: Channel;
  level: AlertLevel;
  payload: AlertGroupData;
  /** When the pipeline decided this content (ms). */
  createdAt: number;
}

const LEVEL_RANK: Record<AlertLevel, number> = { light: 0, strict: 1, "high-risk": 2 };
export const levelRank = (l: AlertLevel): number => LEVEL_RANK[l];
export const maxLevel = (a: AlertLevel, b: AlertLevel): AlertLevel => (LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b);
