// Dedup by fingerprint (Alertmanager's notify DedupStage): the same anomaly seen again and again is
// one alert, and a group is only re-announced to a channel when what that channel was last told is
// out of date — a new alert fired, an alert it was told about resolved — or the repeat interval passed.
// Re-observations, message changes (restart counts) and alerts becoming silenced/inhibited are not news.
import type { IncidentMember } from "../model/incident.ts";
import type { AlertItem, AlertLevel } from "../model/alert.ts";

/** What one channel was last told about one group. */
export interface SentRecord {
  /** Fingerprints of the firing alerts in the last notification. */
  firing: string[];
  /** The alerts of that notification (the resolved notification repeats them). */
  alerts: AlertItem[];
  level: AlertLevel;
  at: number;
}

/** One member per fingerprint, first one wins (order preserved: root cause first). */
export function uniqueByFingerprint(members: readonly IncidentMember[]): IncidentMember[] {
  const seen = new Set<string>();
  const out: IncidentMember[] = [];
  for (const m of members) {
    if (seen.has(m.fingerprint)) continue;
    seen.add(m.fingerprint);
    out.push(m);
  }
  return out;
}

export type DedupReason = "first" | "new-alerts" | "resolved-alerts" | "repeat";

/**
 * Should this channel be notified now? `visible`: fingerprints that would be sent (not inhibited,
 * not silenced); `active`: fingerprints of every member still firing in the incident.
 */
export function needsNotification(
  last: SentRecord | undefined,
  visible: readonly string[],
  active: ReadonlySet<string>,
  now: number,
  repeatIntervalMs: number,
): DedupReason | undefined {
  if (visible.length === 0) return undefined; // nothing to announce (all silenced or inhibited)
  if (!last) return "first";
  const told = new Set(last.firing);
  if (visible.some((fp) => !told.has(fp))) return "new-alerts";
  if (last.firing.some((fp) => !active.has(fp))) return "resolved-alerts";
  if (now - last.at >= repeatIntervalMs) return "repeat";
  return undefined;
}
