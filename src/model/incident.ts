// An incident: anomalies on connected objects, grouped root cause first by src/correlation/ and
// alerted on by src/alerting/. Plain JSON (persisted in state.db, published on MQTT).
import type { Anomaly } from "./anomaly.ts";

export interface IncidentMember {
  /** anomalyKey(): kind/namespace/name/reason. */
  key: string;
  fingerprint: string;
  anomaly: Anomaly;
  joinedAt: number;
  /** Key of the member that suppresses this one's notification (a NotReady node for its Pods). */
  inhibitedBy?: string;
}

export interface IncidentScope {
  /** Distinct Pods with an anomaly in the incident. */
  pods: number;
  nodes: string[];
  namespaces: string[];
  /** "Kind/namespace/name" of workloads in the incident with no ready replica. */
  workloadsDown: string[];
}

export interface Incident {
  id: string;
  status: "open" | "resolved";
  openedAt: number;
  updatedAt: number;
  resolvedAt?: number;
  /** Root cause first (members[0] is the root). */
  members: IncidentMember[];
  scope: IncidentScope;
  /** Set when the incident closed because its anomalies joined another incident. */
  mergedInto?: string;
  /** The change that most likely triggered it (change tracking, docs/changes.md); absent when none was found. */
  trigger?: LikelyTrigger;
}

/** A recorded change ranked as the likely trigger of an incident. */
export interface LikelyTrigger {
  /** "Started 2 min after Deployment web was updated by kube-admin (kubectl): image web:1.4 → web:1.5" */
  summary: string;
  /** RFC 3339: when the change happened. */
  time: string;
  kind: string;
  namespace: string;
  name: string;
  /** Who made it: the authenticated user (audit webhook) or the field manager. */
  actor?: string;
  /** "object" | "owner" | "config" | "node": how the changed object relates to the incident. */
  relation: string;
}

export type IncidentChangeType = "opened" | "updated" | "resolved";

export interface IncidentChange {
  type: IncidentChangeType;
  /** The incident after the change (status "resolved" for resolutions). */
  incident: Incident;
  /** Member keys that joined / left with this change. */
  joined: string[];
  left: string[];
}
