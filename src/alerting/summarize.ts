// Builds the one payload every channel renders (AlertGroupData) and short text summaries of it.
// Rendering for Slack/email/MQTT lives with each channel (src/channels/).
import { hashString } from "../model/fingerprint.ts";
import type { Incident, IncidentMember } from "../model/incident.ts";
import type { AlertGroupData, AlertItem, AlertLevel } from "../model/alert.ts";

export function toAlertItem(m: IncidentMember): AlertItem {
  const a = m.anomaly;
  return {
    kind: a.kind,
    name: a.name,
    namespace: a.namespace,
    node: a.node,
    severity: a.severity,
    reason: a.reason,
    message: a.message,
    time: a.eventTime,
  };
}

const LEVEL_LABEL: Record<AlertLevel, string> = { light: "[LIGHT]", strict: "[STRICT]", "high-risk": "[HIGH-RISK]" };

const objectName = (a: AlertItem) => (a.namespace && a.kind !== "Node" ? `${a.namespace}/${a.name}` : a.name);

export interface PayloadInput {
  incident: Incident;
  /** Alerts to show, root cause first, with their fingerprints (same order). */
  alerts: AlertItem[];
  fingerprints: string[];
  /** Members left out because inhibited or silenced. */
  suppressed: number;
  level: AlertLevel;
  status: "firing" | "resolved";
  clusterId: string;
}

export function buildPayload(p: PayloadInput): AlertGroupData {
  const lead = p.alerts[0];
  const what = lead ? `${lead.reason} on ${lead.kind} ${objectName(lead)}` : `incident ${p.incident.id}`;
  const related = p.alerts.length > 1 ? ` and ${p.alerts.length - 1} related alert${p.alerts.length > 2 ? "s" : ""}` : "";
  const hidden = p.suppressed > 0 ? ` (+${p.suppressed} suppressed)` : "";
  const prefix =
    p.status === "firing" ? LEVEL_LABEL[p.level] : p.incident.mergedInto ? `RESOLVED (merged into incident ${p.incident.mergedInto})` : "RESOLVED";
  return {
    title: `${prefix} ${what}${related}${hidden}`,
    nodeList: [...p.incident.scope.nodes],
    namespaceList: [...p.incident.scope.namespaces],
    alertCount: p.alerts.length,
    alerts: p.alerts,
    clusterId: p.clusterId,
    level: p.level,
    status: p.status,
    incidentId: p.incident.id,
    fingerprint: hashString(JSON.stringify([p.incident.id, p.status, [...p.fingerprints].sort()])),
    ...(p.incident.trigger ? { trigger: p.incident.trigger } : {}),
  };
}

/** One line for logs, `neurocontroller alerts` and plain-text fallbacks. */
export function summarize(g: AlertGroupData): string {
  const where = [g.namespaceList.length ? `ns ${g.namespaceList.join(",")}` : "", g.nodeList.length ? `node ${g.nodeList.join(",")}` : ""]
    .filter(Boolean)
    .join("; ");
  return `${g.title} — incident ${g.incidentId}, cluster ${g.clusterId}${where ? `, ${where}` : ""}`;
}

/** Counts per severity, e.g. "1 critical, 3 warning". */
export function severityCounts(g: AlertGroupData): string {
  const counts = new Map<string, number>();
  for (const a of g.alerts) counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
  return ["critical", "warning", "info"]
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(", ");
}
