// Inhibition: alerts that are consequences of another alert in the same incident are kept in the
// incident (and in cleaned_events.log) but not notified.
//   topology  a member whose inhibitedBy (set by incident correlation: Pods on a node that is down)
//             names a member still in the incident.
//   severity  a critical alert inhibits warning/info alerts on the same object (a Deployment's
//             UnreadyReplicaRatio makes its UnavailableReplica redundant).
// An inhibiting alert inhibits even when it is itself silenced, as in Alertmanager.
import type { Incident } from "../model/incident.ts";
import { refKey, subjectOf } from "../correlation/topology.ts";
import { SEVERITY_RANK } from "../model/anomaly.ts";

/** Member key -> key of the member that inhibits it. */
export function inhibitions(incident: Incident): Map<string, string> {
  const out = new Map<string, string>();
  const present = new Set(incident.members.map((m) => m.key));
  const criticalOn = new Map<string, string>(); // object -> first critical member on it
  for (const m of incident.members) {
    const obj = refKey(subjectOf(m.anomaly));
    if (m.anomaly.severity === "critical" && !criticalOn.has(obj)) criticalOn.set(obj, m.key);
  }
  for (const m of incident.members) {
    if (m.inhibitedBy && m.inhibitedBy !== m.key && present.has(m.inhibitedBy)) {
      out.set(m.key, m.inhibitedBy);
      continue;
    }
    const critical = criticalOn.get(refKey(subjectOf(m.anomaly)));
    if (critical && SEVERITY_RANK[m.anomaly.severity] < SEVERITY_RANK.critical) out.set(m.key, critical);
  }
  return out;
}
